import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DLR_OPTIONS, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { DEFAULT_ACCOUNT_KEY, DeliveryReportStats } from '../telemetry/delivery-report-stats.service.js';

/** How often the counts are logged again. */
export const SECRETS_MATCHED_LOG_INTERVAL_MS = 24 * 3_600_000;

/**
 * Logs how many reports each signature secret verified, one line per account, at startup and
 * once a day: an operator rotating a password sees in the log, without the board, when the old
 * one stops being used. Without `accounts` only a rotation in progress (two secrets or more)
 * is worth a line. Counts only, never a secret.
 */
@Injectable()
export class SecretsMatchedLogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly stats: DeliveryReportStats,
  ) {}

  onApplicationBootstrap(): void {
    const { accounts, secrets } = this.options;
    if (accounts?.kind === 'list') {
      for (const account of accounts.list) this.stats.declareSecrets(account.id, account.secrets.length);
    } else if (!accounts && secrets.length > 0) {
      this.stats.declareSecrets(null, secrets.length);
    }
    this.logCounts();
    this.timer = setInterval(() => this.logCounts(), SECRETS_MATCHED_LOG_INTERVAL_MS);
    // A daily log line is never why the process stays up.
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Writes one line per account with its counts by secret position. */
  logCounts(): void {
    const { secretsMatched, since } = this.stats.snapshot();
    for (const [account, counts] of Object.entries(secretsMatched)) {
      if (account === DEFAULT_ACCOUNT_KEY && !this.options.accounts && counts.length < 2) continue;
      const bySecret = counts.map((count, position) => `#${position + 1}: ${count}`).join(', ');
      this.logger.log(
        `Reports verified by each signature secret of account "${account}" since ${since.toISOString()}: ${bySecret}`,
      );
    }
  }
}
