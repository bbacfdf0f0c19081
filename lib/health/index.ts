/**
 * `nestjs-messente-dlr/health`: a `@nestjs/terminus` health indicator (terminus 11 or 12, an
 * optional peer loaded only through this entry).
 */
export {
  HEALTH_TIMEOUT_MS,
  MessenteDlrHealthIndicator,
  type MessenteDlrHealthOptions,
} from './messente-dlr-health.indicator.js';
