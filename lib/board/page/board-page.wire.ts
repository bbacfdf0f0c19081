import type { BoardMessages, BoardPending, BoardRecent, BoardStats } from '../dlr-board.service.js';
import type { DeliveryStats } from '../../interfaces/delivery-stats.interface.js';

/**
 * A server type as it reaches the page through JSON: dates are ISO strings. Deriving the page's
 * types from the server's keeps the two from drifting apart unseen.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? readonly Wire<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Wire<T[K]> }
      : T;

/** `GET api/stats` as the page reads it. */
export type WireStats = Wire<BoardStats>;

/** `GET api/pending` as the page reads it. */
export type WirePending = Wire<BoardPending>;

/** `GET api/recent` as the page reads it; its changes are shaped like the stream's. */
export type WireRecent = Wire<BoardRecent>;

/** One change of the feed, from `api/recent` or the stream. */
export type WireChange = WireRecent['changes'][number];

/** `GET api/search` as the page reads it. */
export type WireMessages = Wire<BoardMessages>;

/** One message of a search answer. */
export type WireMessage = WireMessages['messages'][number];

/** One report of a message's history. */
export type WireHistoryEntry = WireMessage['history'][number];

/** One tracked send of a search answer. */
export type WireOutcome = NonNullable<WireMessages['outcomes']>[number];

/** `GET api/delivery` as the page reads it. */
export type WireDelivery = Wire<DeliveryStats>;

/** One channel's or country's row of `GET api/delivery`. */
export type WireDeliveryGroup = WireDelivery['total'];
