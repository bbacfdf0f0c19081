import { BlockList, isIP } from 'node:net';
import { DEFAULT_API_URL, DEFAULT_DLR_PATH, MESSENTE_DLR_IPS } from '../messente-dlr.constants.js';
import type { MessenteDlrModuleOptions } from '../interfaces/messente-dlr-options.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import { MessenteDlrConfigError } from '../errors/messente-dlr-config.error.js';
import { optionValidators } from '../utils/option-validators.js';
import { resolveAccounts, resolveCredentials, resolveSecretList } from './resolve-accounts.js';
import { resolveAlarms } from './resolve-alarms.js';

/** The shared checks of numbers, failing with a `MessenteDlrConfigError` that names the option. */
const {
  positiveNumber: positive,
  nonNegativeNumber: nonNegative,
  positiveInteger,
} = optionValidators((option, problem) => {
  throw new MessenteDlrConfigError(option, problem);
});

/**
 * Validates the user's options and fills in defaults. Runs once at bootstrap so that a
 * bad option stops the app instead of surfacing on the first callback.
 */
export function resolveOptions(
  options: MessenteDlrModuleOptions,
  defaultStore: () => DlrStore,
): ResolvedDlrOptions {
  const path = resolvePath(options.path);
  const allowList =
    options.allowedIps === false ? null : buildAllowList(options.allowedIps ?? MESSENTE_DLR_IPS);
  const accounts = resolveAccounts(options);
  const credentials = resolveCredentials(options.credentials, 'credentials');
  const secrets = resolveSecretList(options.signatureSecrets, credentials, 'signatureSecrets');
  // Accounts always bring secrets: each account needs one.
  if (!allowList && !accounts && secrets.length === 0 && options.insecure !== true) {
    throw new MessenteDlrConfigError(
      'allowedIps',
      'is false and no signature secret is set (`signatureSecrets` or `credentials.password`): ' +
        'anyone could post reports. Configure a secret, or set `insecure: true` to accept that.',
    );
  }
  const reconcile = options.reconcile ?? null;
  if (reconcile) {
    positive('reconcile.intervalMs', reconcile.intervalMs);
    validateReconcileOptions(reconcile, 'reconcile.');
  }
  return {
    path,
    allowList,
    secrets,
    credentials,
    accounts,
    apiUrl: (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    apiTimeoutMs: positive('apiTimeoutMs', options.apiTimeoutMs ?? 10_000),
    apiRetries: nonNegative('apiRetries', options.apiRetries ?? 3),
    store: options.store ?? defaultStore(),
    acknowledge: resolveAcknowledge(options.acknowledge),
    handlerAttempts: positive('handlerAttempts', options.handlerAttempts ?? 3),
    handlerRetryDelayMs: nonNegative('handlerRetryDelayMs', options.handlerRetryDelayMs ?? 250),
    pendingLeaseMs: positive('pendingLeaseMs', options.pendingLeaseMs ?? 60_000),
    pendingSweepIntervalMs: nonNegative('pendingSweepIntervalMs', options.pendingSweepIntervalMs ?? 60_000),
    shutdownTimeoutMs: nonNegative('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 10_000),
    cqrs: options.cqrs === true,
    eventEmitter: options.eventEmitter === true,
    reconcile,
    tracking: {
      overdueAfterMs: positive('tracking.overdueAfterMs', options.tracking?.overdueAfterMs ?? 72 * 3_600_000),
      sweepIntervalMs: nonNegative('tracking.sweepIntervalMs', options.tracking?.sweepIntervalMs ?? 60_000),
    },
    alarms: resolveAlarms(options.alarms),
    controllerDecorators: options.controllerDecorators ?? [],
    telemetry: options.telemetry !== false,
    meterProvider: options.meterProvider ?? null,
    tracerProvider: options.tracerProvider ?? null,
  };
}

function resolvePath(path: string | undefined): string {
  if (path === undefined) return DEFAULT_DLR_PATH;
  const trimmed = typeof path === 'string' ? path.trim().replace(/^\/+|\/+$/g, '') : '';
  if (trimmed === '')
    throw new MessenteDlrConfigError('path', 'must be a non-empty route such as "messente/dlr"');
  return trimmed;
}

function buildAllowList(entries: readonly string[]): BlockList {
  if (!Array.isArray(entries))
    throw new MessenteDlrConfigError('allowedIps', 'must be an array of IPs/CIDRs or false');
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix, extra] = String(entry).trim().split('/');
    const family = isIP(address ?? '');
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    const validPrefix = bits === null || (/^\d{1,3}$/.test(prefix!) && bits <= maxBits);
    if (family === 0 || extra !== undefined || !validPrefix) {
      throw new MessenteDlrConfigError('allowedIps', `has a malformed IP or CIDR: "${entry}"`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === null) list.addAddress(address!, type);
    else list.addSubnet(address!, bits, type);
  }
  return list;
}

/** Checks the bounds of a reconciliation pass; also used for `reconcile()`'s own arguments. */
export function validateReconcileOptions(
  options: { olderThanMs?: number; limit?: number; concurrency?: number },
  prefix = '',
): void {
  if (options.olderThanMs !== undefined) nonNegative(`${prefix}olderThanMs`, options.olderThanMs);
  for (const name of ['limit', 'concurrency'] as const) {
    const value = options[name];
    if (value !== undefined) positiveInteger(`${prefix}${name}`, value);
  }
}

function resolveAcknowledge(
  mode: MessenteDlrModuleOptions['acknowledge'],
): ResolvedDlrOptions['acknowledge'] {
  if (mode === undefined) return 'after-store';
  if (mode === 'after-store' || mode === 'after-handlers') return mode;
  throw new MessenteDlrConfigError(
    'acknowledge',
    `must be 'after-store' or 'after-handlers', got ${String(mode)}`,
  );
}
