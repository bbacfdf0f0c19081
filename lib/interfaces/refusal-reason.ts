/**
 * Why the webhook refused a request: the `error.type` attribute of
 * `messente.dlr.webhook.requests` and the keys of `DeliveryReportStats` refusals. A refused
 * request has exactly one reason.
 */
export const REFUSAL_REASONS = [
  'ip_not_allowed',
  'signature_missing',
  'signature_invalid',
  'raw_body_missing',
  'unsupported_media_type',
  'payload_too_large',
  'invalid_body',
  'store_unavailable',
  'shutting_down',
  'handler_failed',
  'unknown_account',
  'account_lookup_failed',
] as const;

/** One of `REFUSAL_REASONS`. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
