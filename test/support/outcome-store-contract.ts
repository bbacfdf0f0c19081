import fc from 'fast-check';
import type { DlrStore } from '../../lib/interfaces/dlr-store.interface.js';
import type { DlrOutcomeStore } from '../../lib/interfaces/outcome-store.interface.js';
import { decideOutcome, isOutcomeEvent } from '../../lib/outcomes/decide-outcome.js';
import type { DeliveryOutcomeResult } from '../../lib/interfaces/delivery-outcome.interface.js';
import { statusPrecedence } from '../../lib/dlr-status.js';
import { sendInput, sentReport as report } from '../../lib/testing/dlr-store-contract.tracking.js';
import { FUZZ_SEED } from './fuzz-seed.js';

/** A store with tracking. */
export type TrackingStore = DlrStore & DlrOutcomeStore;

// Far enough in the past that every lease taken "then" has run out by Date.now().
const T = Date.now() - 3_600_000;
const LONG = 3_600_000;

/**
 * Tracking against a model, for any interleaving of track() and reports (fast-check, so kept
 * out of the exported contract): the outcome events a store answers are exactly the model's.
 */
export function outcomeModelProperty(store: () => TrackingStore): void {
  // One fresh store per run: `store` creates one; all are closed after the test.
  const made: TrackingStore[] = [];
  afterEach(async () => void (await Promise.all(made.splice(0).map((one) => one.close?.()))));
  const send = (channels: readonly string[]) => sendInput(T, LONG, channels);
  it('matches the model for any interleaving of track() and reports (property)', async () => {
    const statuses = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'UNDELIV', 'SEEN'];
    const step = fc.oneof(
      fc.constant({ kind: 'track' as const }),
      fc.record({
        kind: fc.constant('report' as const),
        index: fc.integer({ min: 0, max: 1 }),
        status: fc.constantFrom(...statuses),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const subject = store();
        made.push(subject);
        const input = send(['viber', 'sms']);
        const model = {
          tracked: false,
          result: 'pending' as DeliveryOutcomeResult,
          via: null as string | null,
        };
        const latest: (string | null)[] = [null, null];
        const events: string[] = [];
        const expected: string[] = [];
        let now = T;
        for (const s of steps) {
          now++;
          if (s.kind === 'track') {
            const result = await subject.track(input, now, LONG);
            if (result.change) events.push(result.change.outcome.result);
            if (!model.tracked) {
              model.tracked = true;
              const decided = decideOutcome('pending', null, channelsOf(latest));
              if (isOutcomeEvent('pending', decided.result)) expected.push(decided.result);
              Object.assign(model, { result: decided.result, via: decided.deliveredVia });
            }
            continue;
          }
          const result = await subject.record(report(input, s.index, s.status), now, LONG);
          if (result.outcomeChange) events.push(result.outcomeChange.outcome.result);
          const previous = latest[s.index] ?? null;
          const isChange = previous === null || statusPrecedence(s.status) >= statusPrecedence(previous);
          if (result.outcome === 'change') expect(isChange).toBe(true);
          if (result.outcome !== 'change') continue;
          latest[s.index] = s.status;
          if (!model.tracked) continue;
          const decided = decideOutcome(model.result, model.via, channelsOf(latest));
          if (isOutcomeEvent(model.result, decided.result)) expected.push(decided.result);
          Object.assign(model, { result: decided.result, via: decided.deliveredVia });
        }
        expect(events).toEqual(expected);
        const outcome = await subject.outcome(input.omnimessageId);
        if (model.tracked) expect(outcome).toMatchObject({ result: model.result, deliveredVia: model.via });
        else expect(outcome).toBeNull();
      }),
      { seed: FUZZ_SEED, numRuns: 60 },
    );
  });
}

function channelsOf(latest: readonly (string | null)[]) {
  return [
    { channel: 'viber', status: latest[0] ?? null },
    { channel: 'sms', status: latest[1] ?? null },
  ];
}
