import { jest } from '@jest/globals';
import { Controller, Injectable, Logger, Module, Scope, type CanActivate } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import {
  DeliveryStatusChanged,
  DeliveryStatusEvents,
  DlrPendingService,
  MessenteDlrModule,
  OnDlrStatus,
  type DlrStatus,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, delay, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

const SECRET = 'handler-secret';
const BASE: MessenteDlrModuleOptions = {
  signatureSecrets: [SECRET],
  allowedIps: ['127.0.0.1'],
  handlerRetryDelayMs: 10,
};

/** Records every call as `handler:status`. */
const calls: string[] = [];
const record = (name: string) => (event: DeliveryStatusChanged) => void calls.push(`${name}:${event.status}`);

@Injectable()
class DeliveryHandlers {
  @OnDlrStatus('DELIVRD') onDelivered(event: DeliveryStatusChanged) {
    record('delivered')(event);
  }
  @OnDlrStatus(['FAILED', 'UNDELIV']) async onFailed(event: DeliveryStatusChanged) {
    await delay(5);
    record('failed')(event);
  }
  @OnDlrStatus('*') onAny(event: DeliveryStatusChanged) {
    record('any')(event);
  }
  @OnDlrStatus('ACCEPTD')
  @OnDlrStatus('SEEN')
  onStacked(event: DeliveryStatusChanged) {
    record('stacked')(event);
  }
  @OnDlrStatus('DELIVRD')
  @OnDlrStatus('*')
  onOverlapping(event: DeliveryStatusChanged) {
    record('overlap')(event);
  }
}

@Controller('handlers')
class HandlersInAController {
  @OnDlrStatus('EXPIRED') onExpired(event: DeliveryStatusChanged) {
    record('controller')(event);
  }
}

const factoryProvider = {
  provide: 'FACTORY_HANDLERS',
  useFactory: () => {
    class Made {
      @OnDlrStatus('REJECTD') onRejected(event: DeliveryStatusChanged) {
        record('factory')(event);
      }
    }
    return new Made();
  },
};

class ValueHandlers {
  @OnDlrStatus('SEEN') onSeen(event: DeliveryStatusChanged) {
    record('value')(event);
  }
}
const valueProvider = { provide: 'VALUE_HANDLERS', useValue: new ValueHandlers() };

/** A global guard that counts its runs: it must run for requests, never for handler calls. */
@Injectable()
class CountingGuard implements CanActivate {
  static calls = 0;
  canActivate(): boolean {
    CountingGuard.calls++;
    return true;
  }
}

describe.each(ADAPTERS)('handlers on %s', (adapter) => {
  let running: TestApp | undefined;
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function send(status: DlrStatus | string, messageId = crypto.randomUUID()) {
    return postDlr(running!.baseUrl, dlrPayload({ status, message_id: messageId }), { secret: SECRET });
  }

  it('calls handlers by status, array, wildcard and stacked decorators; in controllers, factory and value providers', async () => {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot(BASE)],
      providers: [DeliveryHandlers, factoryProvider, valueProvider],
      controllers: [HandlersInAController],
    });
    for (const status of ['DELIVRD', 'UNDELIV', 'ACCEPTD', 'SEEN', 'EXPIRED', 'REJECTD', 'NEW_THING']) {
      expect((await send(status)).status).toBe(200);
    }
    await waitFor(() => calls.length >= 18);
    await delay(50);
    expect([...calls].sort()).toEqual(
      [
        'delivered:DELIVRD',
        'any:DELIVRD',
        'overlap:DELIVRD',
        'failed:UNDELIV',
        'any:UNDELIV',
        'overlap:UNDELIV',
        'stacked:ACCEPTD',
        'any:ACCEPTD',
        'overlap:ACCEPTD',
        'stacked:SEEN',
        'value:SEEN',
        'any:SEEN',
        'overlap:SEEN',
        'controller:EXPIRED',
        'any:EXPIRED',
        'overlap:EXPIRED',
        'factory:REJECTD',
        'any:REJECTD',
        'overlap:REJECTD',
        'any:NEW_THING',
        'overlap:NEW_THING',
      ].sort(),
    );
  });

  it('fires nothing for duplicates and stale reports, and sets previousStatus', async () => {
    const events: DeliveryStatusChanged[] = [];
    @Injectable()
    class Spy {
      @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
        events.push(event);
      }
    }
    running = await startApp(adapter, { imports: [MessenteDlrModule.forRoot(BASE)], providers: [Spy] });
    const id = crypto.randomUUID();
    const answers = [];
    for (const status of ['ACCEPTD', 'DELIVRD', 'DELIVRD', 'ACK', 'SEEN'])
      answers.push((await send(status, id)).body);
    expect(answers).toEqual([
      { outcome: 'change' },
      { outcome: 'change' },
      { outcome: 'duplicate' },
      { outcome: 'stale' },
      { outcome: 'change' },
    ]);
    await waitFor(() => events.length >= 3);
    await delay(30);
    expect(events.map((event) => [event.previousStatus, event.status])).toEqual([
      [null, 'ACCEPTD'],
      ['ACCEPTD', 'DELIVRD'],
      ['DELIVRD', 'SEEN'],
    ]);
  });

  it('runs the handlers of one message in acceptance order, even when an earlier one is slow', async () => {
    const order: string[] = [];
    @Injectable()
    class Slow {
      @OnDlrStatus('*') async on(event: DeliveryStatusChanged) {
        if (event.status === 'ACCEPTD') await delay(100);
        order.push(event.status);
      }
    }
    running = await startApp(adapter, { imports: [MessenteDlrModule.forRoot(BASE)], providers: [Slow] });
    const id = crypto.randomUUID();
    for (const status of ['ACCEPTD', 'DELIVRD', 'SEEN']) await send(status, id);
    await waitFor(() => order.length === 3);
    expect(order).toEqual(['ACCEPTD', 'DELIVRD', 'SEEN']);
  });

  it('does not run global guards on handler calls', async () => {
    CountingGuard.calls = 0;
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot(BASE)],
      providers: [DeliveryHandlers, { provide: APP_GUARD, useClass: CountingGuard }],
    });
    expect((await send('DELIVRD')).status).toBe(200);
    await waitFor(() => calls.length === 3);
    await delay(30);
    // One guard run for the HTTP request; none for the three handler calls.
    expect(CountingGuard.calls).toBe(1);
  });

  it('retries a failing handler: fails twice then succeeds, three calls, report processed', async () => {
    let tries = 0;
    @Injectable()
    class Flaky {
      @OnDlrStatus('DELIVRD') on() {
        tries++;
        if (tries <= 2) throw new Error(`flaky failure ${tries}`);
      }
    }
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      running = await startApp(adapter, { imports: [MessenteDlrModule.forRoot(BASE)], providers: [Flaky] });
      const pending = running.app.get(DlrPendingService);
      expect((await send('DELIVRD')).status).toBe(200);
      await waitFor(() => tries === 3);
      await delay(30);
      expect(tries).toBe(3);
      expect(
        errors.mock.calls.some(
          ([message, stack]) =>
            String(message).includes('Flaky.on') && String(stack).includes('flaky failure 1'),
        ),
      ).toBe(true);
      expect(await pending.redispatchPending()).toBe(0);
      expect(tries).toBe(3);
    } finally {
      errors.mockRestore();
    }
  });

  it('leaves a report pending when a handler always fails; the others still run; redispatchPending runs it again', async () => {
    let failing = 0;
    let healthy = 0;
    @Injectable()
    class Handlers {
      @OnDlrStatus('FAILED') broken() {
        failing++;
        throw new Error('always broken');
      }
      @OnDlrStatus('FAILED') fine() {
        healthy++;
      }
    }
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      running = await startApp(adapter, {
        imports: [MessenteDlrModule.forRoot(BASE)],
        providers: [Handlers],
      });
      const pending = running.app.get(DlrPendingService);
      let streamed = 0;
      running.app.get(DeliveryStatusEvents).changes$.subscribe(() => streamed++);
      expect((await send('FAILED')).status).toBe(200);
      await waitFor(() => failing === 3);
      await delay(30);
      expect(healthy).toBe(1);
      expect(await pending.redispatchPending()).toBe(1);
      expect(failing).toBe(6);
      // The handler that already succeeded is not run again, and the stream saw the change once.
      expect(healthy).toBe(1);
      expect(streamed).toBe(1);
    } finally {
      errors.mockRestore();
    }
  });

  it("'after-handlers' answers 500 on a failing handler and a redelivery runs it again", async () => {
    let tries = 0;
    @Injectable()
    class FailsOnce {
      @OnDlrStatus('DELIVRD') on() {
        tries++;
        if (tries === 1) throw new Error('first delivery fails');
      }
    }
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      running = await startApp(adapter, {
        imports: [MessenteDlrModule.forRoot({ ...BASE, acknowledge: 'after-handlers', handlerAttempts: 1 })],
        providers: [FailsOnce],
      });
      const payload = dlrPayload({ status: 'DELIVRD' });
      const first = await postDlr(running.baseUrl, payload, { secret: SECRET });
      expect(first.status).toBe(500);
      const again = await postDlr(running.baseUrl, payload, { secret: SECRET });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ outcome: 'redelivery' });
      expect(tries).toBe(2);
      const third = await postDlr(running.baseUrl, payload, { secret: SECRET });
      expect(third.body).toEqual({ outcome: 'duplicate' });
      expect(tries).toBe(2);
    } finally {
      errors.mockRestore();
    }
  });

  it("'after-handlers' answers only after async handlers finished", async () => {
    let finished = false;
    @Injectable()
    class SlowHandler {
      @OnDlrStatus('DELIVRD') async on() {
        await delay(80);
        finished = true;
      }
    }
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ ...BASE, acknowledge: 'after-handlers' })],
      providers: [SlowHandler],
    });
    expect((await send('DELIVRD')).status).toBe(200);
    expect(finished).toBe(true);
  });

  it('answers 503 to reports that arrive while shutdown waits for handlers', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    @Injectable()
    class Blocking {
      @OnDlrStatus('DELIVRD') async on() {
        await blocked;
      }
    }
    running = await startApp(adapter, { imports: [MessenteDlrModule.forRoot(BASE)], providers: [Blocking] });
    const { baseUrl } = running;
    expect((await send('DELIVRD')).status).toBe(200);
    const closing = running.close();
    running = undefined;
    await delay(50);
    const during = await postDlr(baseUrl, dlrPayload(), { secret: SECRET });
    release();
    await closing;
    expect(during.status).toBe(503);
  });

  it('awaits handlers in flight on shutdown', async () => {
    let finished = false;
    @Injectable()
    class SlowHandler {
      @OnDlrStatus('DELIVRD') async on() {
        await delay(200);
        finished = true;
      }
    }
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot(BASE)],
      providers: [SlowHandler],
    });
    expect((await send('DELIVRD')).status).toBe(200);
    expect(finished).toBe(false);
    await running.close();
    running = undefined;
    expect(finished).toBe(true);
  });

  it('a sweep over many failing reports ends, running each once more', async () => {
    let failing = 0;
    @Injectable()
    class AlwaysFails {
      @OnDlrStatus('*') on() {
        failing++;
        throw new Error('down');
      }
    }
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      running = await startApp(adapter, {
        imports: [MessenteDlrModule.forRoot({ ...BASE, handlerAttempts: 1, pendingSweepIntervalMs: 0 })],
        providers: [AlwaysFails],
      });
      for (let i = 0; i < 150; i++) expect((await send('FAILED')).status).toBe(200);
      await waitFor(() => failing === 150);
      // A sweep takes leases that ended before it began.
      await delay(5);
      expect(await running.app.get(DlrPendingService).redispatchPending()).toBe(150);
      expect(failing).toBe(300);
    } finally {
      errors.mockRestore();
      log.mockRestore();
    }
  });

  it('never runs a change twice at once when its lease runs out mid-handler', async () => {
    let calls = 0;
    @Injectable()
    class Slow {
      @OnDlrStatus('DELIVRD') async on() {
        calls++;
        await delay(400);
      }
    }
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      running = await startApp(adapter, {
        imports: [MessenteDlrModule.forRoot({ ...BASE, pendingLeaseMs: 50, pendingSweepIntervalMs: 20 })],
        providers: [Slow],
      });
      const payload = dlrPayload({ status: 'DELIVRD' });
      expect((await postDlr(running.baseUrl, payload, { secret: SECRET })).status).toBe(200);
      await delay(150);
      // The lease ran out: a sweep and a redelivery both find the change claimable.
      expect((await postDlr(running.baseUrl, payload, { secret: SECRET })).body).toEqual({
        outcome: 'redelivery',
      });
      await delay(400);
      expect(calls).toBe(1);
    } finally {
      log.mockRestore();
    }
  });
});

describe('handler discovery at bootstrap', () => {
  it('fails on an unknown status name and lists the valid ones', async () => {
    @Injectable()
    class Typo {
      @OnDlrStatus('DELIVERED' as DlrStatus) on() {}
    }
    @Module({ imports: [MessenteDlrModule.forRoot(BASE)], providers: [Typo] })
    class TypoModule {}
    const app = await NestFactory.create(TypoModule, { logger: false, abortOnError: false });
    await expect(app.init()).rejects.toThrow(
      "@OnDlrStatus('DELIVERED') on Typo.on: unknown status. Valid statuses: ACCEPTD, ACK, UNKNOWN, DELIVRD, UNDELIV, FAILED, REJECTD, EXPIRED, NACK, DELETED, SEEN, or '*' for all.",
    );
    await app.close();
  });

  it('refuses request-scoped handlers with a warning and never calls their placeholder', async () => {
    let called = 0;
    @Injectable({ scope: Scope.REQUEST })
    class Scoped {
      @OnDlrStatus('*') on() {
        called++;
      }
    }
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const running = await startApp('express', {
      imports: [MessenteDlrModule.forRoot(BASE)],
      providers: [Scoped],
    });
    try {
      expect(
        warnings.mock.calls.some(([message]) =>
          String(message).includes('Scoped are ignored: it is request-scoped'),
        ),
      ).toBe(true);
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
      await delay(30);
      expect(called).toBe(0);
    } finally {
      warnings.mockRestore();
      await running.close();
    }
  });
});
