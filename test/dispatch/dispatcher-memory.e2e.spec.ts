import { jest } from '@jest/globals';
import { Injectable, Logger, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  DlrDispatcherService,
  MAX_REMEMBERED,
  REMEMBERED_AFTER_FORGETTING,
} from '../../lib/dispatch/dlr-dispatcher.service.js';
import {
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  type DeliveryStatusChanged,
} from '../../lib/index.js';
import { DlrIntakeService } from '../../lib/services/dlr-intake.service.js';
import { waitFor } from '../support/app.js';

/** Lets the first change's handler finish only when the test says so. */
let releaseFirst: () => void = () => undefined;
const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
let failures = 0;
// One error thrown every time: capturing a new stack per failure would be most of this test's time.
const DOWNSTREAM_UNAVAILABLE = new Error('downstream unavailable');

@Injectable()
class OutageHandlers {
  // A downstream outage: every change fails and stays remembered, except the first, whose
  // handler is still running when the bound is crossed.
  @OnDlrStatus('DELIVRD') async deliver(event: DeliveryStatusChanged): Promise<void> {
    if (event.messageId === 'm-0') return firstHeld;
    failures++;
    throw DOWNSTREAM_UNAVAILABLE;
  }
}

@Module({
  imports: [
    MessenteDlrModule.forRoot({
      handlerAttempts: 1,
      pendingSweepIntervalMs: 0,
      store: new InMemoryDlrStore({ maxMessages: 2 * MAX_REMEMBERED }),
    }),
  ],
  providers: [OutageHandlers],
})
class OutageModule {}

describe('DlrDispatcherService: failed changes remembered during an outage', () => {
  let app: INestApplicationContext;
  let errors: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    app = await NestFactory.createApplicationContext(OutageModule, { logger: false });
  });

  afterAll(async () => {
    releaseFirst();
    await app?.close();
    errors.mockRestore();
  });

  /** Records changes `from` to `to - 1` and waits until all but the held one have failed. */
  async function fail(intake: DlrIntakeService, from: number, to: number): Promise<void> {
    for (let i = from; i < to; i += 100) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(to, i + 100); j++) {
        batch.push(intake.accept({ message_id: `m-${j}`, status: 'DELIVRD' }));
      }
      await Promise.all(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => failures === to - 1);
  }

  it('forgets the oldest idle changes in one pass past the bound, never a running one', async () => {
    const intake = app.get(DlrIntakeService);
    const dispatcher = app.get(DlrDispatcherService);
    await fail(intake, 0, MAX_REMEMBERED);
    expect(dispatcher.remembered).toBe(MAX_REMEMBERED);

    // One more crosses the bound: a single pass goes down to the low mark, not one per change.
    await fail(intake, MAX_REMEMBERED, MAX_REMEMBERED + 1);
    expect(dispatcher.remembered).toBe(REMEMBERED_AFTER_FORGETTING);
    const more = 5_000;
    await fail(intake, MAX_REMEMBERED + 1, MAX_REMEMBERED + 1 + more);
    expect(dispatcher.remembered).toBe(REMEMBERED_AFTER_FORGETTING + more);

    // The oldest change was running, so the pass kept it: completing it now forgets it.
    releaseFirst();
    await waitFor(() => dispatcher.remembered === REMEMBERED_AFTER_FORGETTING + more - 1);
  });
});
