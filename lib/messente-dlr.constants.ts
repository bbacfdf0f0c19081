/**
 * Every source IP Messente has documented for delivery-report callbacks, across all
 * versions of its docs (see PROTOCOL.md). The default for `allowedIps`.
 */
export const MESSENTE_DLR_IPS: readonly string[] = Object.freeze([
  '5.9.48.210',
  '5.9.235.252',
  '213.239.195.15',
  '116.203.70.24',
  '95.216.221.43',
  '159.69.33.20',
]);

/** Default route of the webhook, relative to the global prefix. */
export const DEFAULT_DLR_PATH = 'messente/dlr';

/** Default base URL of Messente's REST API. */
export const DEFAULT_API_URL = 'https://api.messente.com/v1';

/** Largest callback body accepted; Messente's reports are a few hundred bytes. */
export const MAX_DLR_BODY_BYTES = 64 * 1024;

/** Header that carries the HMAC-SHA256 signature of the raw body. */
export const SIGNATURE_HEADER = 'x-messente-signature';

/** Metadata key set by `@OnDlrStatus`. */
export const ON_DLR_STATUS_METADATA = 'messente-dlr:on-status';

/** Metadata key set by `@OnDeliveryOutcome`. */
export const ON_DELIVERY_OUTCOME_METADATA = 'messente-dlr:on-outcome';

/** Metadata key set by `@OnDlrAlarm`. */
export const ON_DLR_ALARM_METADATA = 'messente-dlr:on-alarm';

/** Injection token of the resolved `DlrStore`. */
export const DLR_STORE = Symbol('MESSENTE_DLR_STORE');

/** Injection token of the validated options (`ResolvedDlrOptions`). */
export const DLR_OPTIONS = Symbol('MESSENTE_DLR_RESOLVED_OPTIONS');

/** The context every log line of the package carries, so one filter finds them all. */
export const LOGGER_CONTEXT = 'MessenteDlr';
