import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  DeliveryReportStats,
  MAX_MATCHED_ACCOUNTS,
} from '../../lib/telemetry/delivery-report-stats.service.js';
import {
  SECRETS_MATCHED_LOG_INTERVAL_MS,
  SecretsMatchedLogService,
} from '../../lib/accounts/secrets-matched-log.service.js';
import { resolveOptions } from '../../lib/config/resolve-options.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import type { MessenteDlrModuleOptions } from '../../lib/interfaces/messente-dlr-options.interface.js';

describe('DeliveryReportStats secretsMatched', () => {
  it('counts by account and secret position, and reset keeps the accounts at zero', () => {
    const stats = new DeliveryReportStats();
    stats.declareSecrets('shop-ee', 2);
    stats.secretMatched('shop-ee', 1, 2);
    stats.secretMatched('shop-ee', 1, 2);
    stats.secretMatched(null, 0, 3);
    expect(stats.snapshot().secretsMatched).toEqual({ 'shop-ee': [0, 2], default: [1, 0, 0] });
    // A copy: changing it changes nothing.
    (stats.snapshot().secretsMatched['shop-ee'] as number[])[0] = 99;
    expect(stats.snapshot().secretsMatched['shop-ee']).toEqual([0, 2]);
    stats.reset();
    expect(stats.snapshot().secretsMatched).toEqual({ 'shop-ee': [0, 0], default: [0, 0, 0] });
  });

  it('keeps at most MAX_MATCHED_ACCOUNTS accounts, dropping the oldest', () => {
    const stats = new DeliveryReportStats();
    for (let i = 0; i <= MAX_MATCHED_ACCOUNTS; i++) stats.secretMatched(`t-${i}`, 0, 1);
    const matched = stats.snapshot().secretsMatched;
    expect(Object.keys(matched)).toHaveLength(MAX_MATCHED_ACCOUNTS);
    expect(matched['t-0']).toBeUndefined();
    expect(matched[`t-${MAX_MATCHED_ACCOUNTS}`]).toEqual([1]);
  });
});

describe('SecretsMatchedLogService', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  function serviceFor(options: MessenteDlrModuleOptions) {
    const stats = new DeliveryReportStats();
    const resolved = resolveOptions(options, () => new InMemoryDlrStore());
    const lines: string[] = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      lines.push(String(message));
    });
    return { service: new SecretsMatchedLogService(resolved, stats), stats, lines };
  }

  it('logs one line per account at startup and again once a day, never a secret', () => {
    jest.useFakeTimers();
    const { service, stats, lines } = serviceFor({
      accounts: [
        { id: 'shop-ee', signatureSecrets: ['ee-new', 'ee-old'] },
        { id: 'shop-lv', signatureSecrets: ['lv-secret'] },
      ],
    });
    service.onApplicationBootstrap();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/account "shop-ee" since .*: #1: 0, #2: 0$/);
    expect(lines[1]).toMatch(/account "shop-lv" since .*: #1: 0$/);
    stats.secretMatched('shop-ee', 1, 2);
    jest.advanceTimersByTime(SECRETS_MATCHED_LOG_INTERVAL_MS);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/"shop-ee" .*#1: 0, #2: 1$/);
    expect(lines.join('\n')).not.toMatch(/ee-new|ee-old|lv-secret/);
    service.onApplicationShutdown();
    jest.advanceTimersByTime(SECRETS_MATCHED_LOG_INTERVAL_MS);
    expect(lines).toHaveLength(4);
  });

  it('without accounts, logs the default secrets only during a rotation (two or more)', () => {
    const one = serviceFor({ signatureSecrets: ['only'] });
    one.service.onApplicationBootstrap();
    one.service.onApplicationShutdown();
    expect(one.lines).toEqual([]);
    expect(one.stats.snapshot().secretsMatched).toEqual({ default: [0] });
    jest.restoreAllMocks();
    const two = serviceFor({ signatureSecrets: ['new'], credentials: { username: 'u', password: 'old' } });
    two.service.onApplicationBootstrap();
    two.service.onApplicationShutdown();
    expect(two.lines).toEqual([expect.stringMatching(/account "default" since .*: #1: 0, #2: 0$/)]);
  });
});
