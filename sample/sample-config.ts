import { MESSENTE_DLR_IPS, type MessenteCredentials } from 'nestjs-messente-dlr';

/**
 * SAMPLE ONLY: the secret used when MESSENTE_API_PASSWORD is not set, so that
 * `npm run simulate` works out of the box. A real app takes its API key's password.
 */
export const SAMPLE_ONLY_SECRET = 'sample-only-secret-do-not-use-in-production';

/** The sample's settings, from environment variables. */
export interface SampleConfig {
  readonly port: number;
  readonly secret: string;
  readonly credentials: MessenteCredentials | null;
  readonly redisUrl: string | null;
  readonly databaseUrl: string | null;
  readonly allowedIps: readonly string[];
  readonly apiUrl: string | undefined;
}

/** Reads PORT, MESSENTE_API_USERNAME, MESSENTE_API_PASSWORD, MESSENTE_API_URL, REDIS_URL and DATABASE_URL. */
export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const password = env['MESSENTE_API_PASSWORD'] || null;
  const username = env['MESSENTE_API_USERNAME'] || null;
  return {
    port: Number(env['PORT'] ?? 3000),
    secret: password ?? SAMPLE_ONLY_SECRET,
    credentials: username && password ? { username, password } : null,
    redisUrl: env['REDIS_URL'] || null,
    databaseUrl: env['DATABASE_URL'] || null,
    // SAMPLE ONLY: loopback is allowed so the simulator on this machine can post.
    // Production keeps the default, MESSENTE_DLR_IPS alone.
    allowedIps: [...MESSENTE_DLR_IPS, '127.0.0.1', '::1'],
    apiUrl: env['MESSENTE_API_URL'] || undefined,
  };
}
