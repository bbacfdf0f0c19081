import { jest } from '@jest/globals';
import { Injectable, Logger, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { PendingKey } from '../../lib/interfaces/dlr-store.interface.js';
import {
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  type DeliveryStatusChanged,
} from '../../lib/index.js';
import { DlrIntakeService } from '../../lib/services/dlr-intake.service.js';
import { waitFor } from '../support/app.js';

/** A message id with a NUL in it, as the PostgreSQL suite uses: the separator the key once had. */
const NUL_ID = 'a\u0000b';

/** The in-memory store, noting every key it is asked to release. */
class ReleaseRecordingStore extends InMemoryDlrStore {
  readonly released: PendingKey[] = [];

  override async release(key: PendingKey): Promise<void> {
    this.released.push(key);
    return super.release(key);
  }
}

const store = new ReleaseRecordingStore();
let started = 0;

@Injectable()
class HangingHandlers {
  // Still running at shutdown: its change's lease must be given up, under its own key.
  @OnDlrStatus('DELIVRD') async deliver(_event: DeliveryStatusChanged): Promise<void> {
    started++;
    return new Promise(() => undefined);
  }
}

@Module({
  imports: [MessenteDlrModule.forRoot({ store, shutdownTimeoutMs: 50, pendingSweepIntervalMs: 0 })],
  providers: [HangingHandlers],
})
class HangingModule {}

describe('DlrDispatcherService at shutdown', () => {
  let app: INestApplicationContext;
  let warnings: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    app = await NestFactory.createApplicationContext(HangingModule, { logger: false });
  });

  afterAll(() => warnings.mockRestore());

  it('releases a change in progress under its own key, a message id holding U+0000 included', async () => {
    const intake = app.get(DlrIntakeService);
    await intake.accept({ message_id: NUL_ID, status: 'DELIVRD' });
    await intake.accept({ message_id: 'plain', status: 'DELIVRD' });
    await waitFor(() => started === 2);
    await app.close();
    expect(store.released).toHaveLength(2);
    expect(store.released).toEqual(
      expect.arrayContaining([
        { messageId: NUL_ID, status: 'DELIVRD' },
        { messageId: 'plain', status: 'DELIVRD' },
      ]),
    );
    // Released: both are claimable at once by the next run.
    const claimed = await store.claimPending(10, 60_000);
    expect(claimed.map((report) => report.raw['message_id']).sort()).toEqual([NUL_ID, 'plain'].sort());
  });
});
