import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { resolveOptions } from '../../lib/config/resolve-options.js';
import {
  MessenteDlrModule,
  MessenteDlrConfigError,
  OnDlrAlarm,
  type DeliveryAlarmKind,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';

const resolveAlarms = (alarms: unknown) =>
  resolveOptions(
    { signatureSecrets: ['s'], alarms } as MessenteDlrModuleOptions,
    () => new InMemoryDlrStore(),
  ).alarms;

describe('module option alarms', () => {
  it('defaults to refusalRatio 0.5, minRequests 10, windowMs 300 000, silence off', () => {
    expect(resolveAlarms(undefined)).toEqual({
      refusalRatio: 0.5,
      minRequests: 10,
      windowMs: 300_000,
      silentForMs: null,
    });
    expect(resolveAlarms({ silentForMs: 600_000, refusalRatio: 0 })).toEqual({
      refusalRatio: 0,
      minRequests: 10,
      windowMs: 300_000,
      silentForMs: 600_000,
    });
  });

  it.each([
    [null, '`alarms` must be an object, got null'],
    [[], '`alarms` must be an object, got an array'],
    [{ refusalRatio: 1 }, '`alarms.refusalRatio` must be a number from 0 up to, not including, 1, got 1'],
    [{ refusalRatio: -0.1 }, '`alarms.refusalRatio` must be a number'],
    [{ refusalRatio: '0.5' }, '`alarms.refusalRatio` must be a number'],
    [{ minRequests: 0 }, '`alarms.minRequests` must be a positive integer, got 0'],
    [{ minRequests: 2.5 }, '`alarms.minRequests` must be a positive integer'],
    [{ windowMs: 999 }, '`alarms.windowMs` must be from 1000 to 3600000 ms, got 999'],
    [{ windowMs: 3_600_001 }, '`alarms.windowMs` must be from 1000 to 3600000 ms'],
    [{ windowMs: Number.NaN }, '`alarms.windowMs` must be a positive integer, got NaN'],
    [{ silentForMs: 0 }, '`alarms.silentForMs` must be a positive integer, got 0'],
    [{ silentForMs: 2 ** 31 }, '`alarms.silentForMs` must be at most 2147483647 ms'],
    [{ silentFor: 1_000 }, '`alarms.silentFor` is not an option of alarms'],
  ])('refuses %j at startup, naming the option', (alarms, message) => {
    expect(() => resolveAlarms(alarms)).toThrow(MessenteDlrConfigError);
    expect(() => resolveAlarms(alarms)).toThrow(message);
  });

  it('a bad alarms option stops the app from starting', async () => {
    @Module({
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['s'], alarms: { minRequests: -1 } })],
    })
    class BadModule {}
    await expect(NestFactory.create(BadModule, { logger: false, abortOnError: false })).rejects.toThrow(
      'option `alarms.minRequests` must be a positive integer, got -1',
    );
  });

  it('an @OnDlrAlarm naming a kind there is not stops the app, listing the kinds', async () => {
    @Injectable()
    class Typo {
      @OnDlrAlarm('refusal' as DeliveryAlarmKind) on(): void {}
    }
    @Module({ imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['s'] })], providers: [Typo] })
    class TypoModule {}
    const app = await NestFactory.create(TypoModule, { logger: false, abortOnError: false });
    try {
      await expect(app.init()).rejects.toThrow(
        "@OnDlrAlarm('refusal') on Typo.on: no such alarm. Valid kinds: refusals, silence, account, or '*' for all.",
      );
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});
