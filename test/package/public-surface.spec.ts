/**
 * The public surface is deliberate: each entry exports exactly these values (types are
 * checked by the compiler, not here). Adding an export means adding it here, and to the
 * README or a docs page; internals are imported from their files, by tests only.
 */
const ENTRIES: Record<string, readonly string[]> = {
  '../../lib/index.js': [
    'DLR_STORE',
    'DELIVERY_SECONDS_BOUNDS',
    'deliveryBinOf',
    'deliveryWindowRange',
    'DeliveryReportStats',
    'DeliveryStatusChanged',
    'DeliveryStatusEvents',
    'DeliveryStatusService',
    'DeliveryOutcomeChanged',
    'OnDeliveryOutcome',
    'describeDlrError',
    'DlrPendingService',
    'DlrStatus',
    'FAILURE_STATUSES',
    'FINAL_STATUSES',
    'InMemoryDlrStore',
    'KNOWN_STATUSES',
    'MESSENTE_DLR_IPS',
    'MessenteApiError',
    'MessenteDlrConfigError',
    'MessenteDlrModule',
    'OnDlrStatus',
    'OnDlrAlarm',
    'REFUSAL_REASONS',
    'isFinalStatus',
    'isKnownStatus',
  ],
  '../../lib/board/index.js': ['DEFAULT_BOARD_PATH', 'MessenteDlrBoardModule', 'maskRecipient'],
  '../../lib/health/index.js': ['HEALTH_MIN_REQUESTS', 'HEALTH_TIMEOUT_MS', 'MessenteDlrHealthIndicator'],
  '../../lib/redis/index.js': ['RedisDlrStore'],
  '../../lib/postgres/index.js': ['POSTGRES_DLR_SCHEMA_VERSION', 'PostgresDlrStore', 'postgresDlrSchemaSql'],
  '../../lib/testing/index.js': [
    'FakeMessenteApi',
    'buildSendAnswer',
    'describeDlrStoreContract',
    'dlrPayload',
    'signDlr',
  ],
};

describe('the public surface', () => {
  it.each(Object.entries(ENTRIES))('%s exports exactly its listed values', async (entry, expected) => {
    const exported = Object.keys((await import(entry)) as object).sort();
    expect(exported).toEqual([...expected].sort());
  });
});
