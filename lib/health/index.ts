/**
 * `nestjs-messente-dlr/health`: a `@nestjs/terminus` health indicator (terminus 11 or 12, an
 * optional peer loaded only through this entry).
 */
export {
  HEALTH_MIN_REQUESTS,
  HEALTH_TIMEOUT_MS,
  MessenteDlrHealthIndicator,
  type MessenteDlrHealthCondition,
  type MessenteDlrHealthOptions,
} from './messente-dlr-health.indicator.js';
