import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import type { DlrOutcomeStore } from '../interfaces/outcome-store.interface.js';

/** The tracking methods `DlrOutcomeStore` adds, all of which a store must have to track. */
const TRACKING_METHODS = [
  'track',
  'outcome',
  'findByRef',
  'completeOutcome',
  'releaseOutcome',
  'claimPendingOutcomes',
  'claimOverdue',
  'markOverdue',
  'countPendingOutcomes',
] as const;

/** The store as a tracking store, or null when it does not implement every tracking method. */
export function trackingOf(store: DlrStore): (DlrStore & DlrOutcomeStore) | null {
  const candidate = store as DlrStore & Partial<DlrOutcomeStore>;
  return TRACKING_METHODS.every((method) => typeof candidate[method] === 'function')
    ? (candidate as DlrStore & DlrOutcomeStore)
    : null;
}

/** Why `track()` cannot work on this store, for the error it throws. */
export function noTrackingMessage(store: DlrStore): string {
  const name = (store as object).constructor?.name ?? 'the store';
  return (
    `${name} does not keep outcomes (it lacks the DlrOutcomeStore methods), so track(), ` +
    'outcome() and findByRef() cannot work: use InMemoryDlrStore or PostgresDlrStore, or add them.'
  );
}
