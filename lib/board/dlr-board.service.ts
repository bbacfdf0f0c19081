import {
  Inject,
  Injectable,
  NotImplementedException,
  ServiceUnavailableException,
  type MessageEvent,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Subject, map, takeUntil, type Observable } from 'rxjs';
import { DlrPendingService } from '../dispatch/dlr-pending.service.js';
import { MessenteDlrConfigError } from '../errors/messente-dlr-config.error.js';
import { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import { DeliveryStatusEvents } from '../events/delivery-status-events.service.js';
import type {
  DeliveryStats,
  DeliveryWindow,
  DlrDeliveryStatsStore,
} from '../interfaces/delivery-stats.interface.js';
import type { DeliveryHistoryEntry } from '../interfaces/delivery-history-entry.interface.js';
import type { DlrStore } from '../interfaces/dlr-store.interface.js';
import { summarizeDelivery } from '../analytics/summarize-delivery.js';
import { DLR_STORE } from '../messente-dlr.constants.js';
import { DeliveryStatusService } from '../services/delivery-status.service.js';
import {
  DeliveryReportStats,
  type DeliveryReportStatsSnapshot,
} from '../telemetry/delivery-report-stats.service.js';
import {
  BOARD_OPTIONS,
  BOARD_PENDING_LIMIT,
  BOARD_RECONNECT_MS,
  BOARD_SEARCH_LIMIT,
} from './board.constants.js';
import {
  BoardViews,
  boardStates,
  type BoardChange,
  type BoardHistoryEntry,
  type BoardOutcome,
  type BoardPendingChange,
  type BoardState,
} from './board-views.js';
import type { ResolvedBoardOptions } from './resolved-board-options.interface.js';
import { errorMessage } from '../utils/error-message.js';
import { trackingOf } from '../stores/tracking-of.js';
import { toDeliveryOutcome } from '../outcomes/to-delivery-outcome.js';

/** What `GET {path}/api/stats` answers. */
export interface BoardStats extends DeliveryReportStatsSnapshot {
  /** Changes whose handlers have not all succeeded, in the store. */
  readonly pending: number;
  /** The state of each status in `changesByStatus`, so the page colours them as the server does. */
  readonly stateByStatus: Readonly<Record<string, BoardState>>;
}

/** What `GET {path}/api/messages/:id` answers. */
export interface BoardMessages {
  /** One entry per known message (one for a message id, each message for an omnimessage id). */
  readonly messages: {
    readonly messageId: string;
    /** Every report of the message, oldest first, with its state, recipients masked as configured. */
    readonly history: BoardHistoryEntry[];
  }[];
  /** The tracked sends the answer concerns (found by ref, or the omnimessages of its messages). */
  readonly outcomes?: BoardOutcome[];
}

/** What `GET {path}/api/recent` answers. */
export interface BoardRecent {
  /** The latest changes from the store, newest first, each as the live stream sends it. */
  readonly changes: BoardChange[];
}

/** What `GET {path}/api/pending` answers. */
export interface BoardPending {
  /** How many changes are pending in all. */
  readonly count: number;
  /** The first `BOARD_PENDING_LIMIT` of them, in about the order a sweep would take them. */
  readonly changes: BoardPendingChange[];
}

/** The parts of `MessenteDlrModule` the board reads, found in the app at startup. */
interface DlrParts {
  readonly events: DeliveryStatusEvents;
  readonly statuses: DeliveryStatusService;
  readonly pending: DlrPendingService;
  readonly stats: DeliveryReportStats;
  readonly store: DlrStore;
}

/**
 * The board's data: reads `MessenteDlrModule`'s stats, store and change stream, and masks
 * recipients through `BoardViews` before anything leaves.
 */
@Injectable()
export class DlrBoardService implements OnModuleInit, OnModuleDestroy {
  private parts: DlrParts | undefined;
  private readonly views: BoardViews;
  /** Ends every open stream at shutdown, so that closing the HTTP server does not wait on them. */
  private readonly stopping = new Subject<void>();

  constructor(
    @Inject(BOARD_OPTIONS) options: ResolvedBoardOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.views = new BoardViews(options.maskRecipients);
  }

  /** Finds `MessenteDlrModule` in the app, wherever it was imported; fails the bootstrap without it. */
  onModuleInit(): void {
    try {
      const find = <T>(token: Parameters<ModuleRef['get']>[0]) =>
        this.moduleRef.get<T>(token, { strict: false });
      this.parts = {
        events: find(DeliveryStatusEvents),
        statuses: find(DeliveryStatusService),
        pending: find(DlrPendingService),
        stats: find(DeliveryReportStats),
        store: find(DLR_STORE),
      };
    } catch {
      throw new MessenteDlrConfigError(
        'MessenteDlrModule',
        'is not imported: the board shows what MessenteDlrModule.forRoot() receives, so the app needs it',
        'MessenteDlrBoardModule',
      );
    }
  }

  /** Ends the open streams: shutdown must not wait for browsers that keep them open. */
  onModuleDestroy(): void {
    this.stopping.next();
    this.stopping.complete();
  }

  /** The stats snapshot plus how many changes are pending. */
  async stats(): Promise<BoardStats> {
    const { stats, store } = this.dlr;
    const pending = await this.fromStore(() => store.countPending());
    const snapshot = stats.snapshot();
    return { ...snapshot, pending, stateByStatus: boardStates(Object.keys(snapshot.changesByStatus)) };
  }

  /** Every change as it is accepted, as server-sent events named `change`. */
  changes(): Observable<MessageEvent> {
    return this.dlr.events.changes$.pipe(
      map((event) => ({ type: 'change', data: this.views.change(event), retry: BOARD_RECONNECT_MS })),
      takeUntil(this.stopping),
    );
  }

  /** The history of a message, or of every known message of an omnimessage. */
  async messages(id: string): Promise<BoardMessages> {
    const { statuses } = this.dlr;
    const own = await this.history(id);
    const messageIds =
      own.length > 0 ? [id] : (await statuses.forOmnimessage(id)).map((event) => event.messageId);
    const messages = [];
    for (const messageId of messageIds) {
      const history = messageId === id ? own : await this.history(messageId);
      messages.push({ messageId, history: history.map((entry) => this.views.historyEntry(entry)) });
    }
    return { messages };
  }

  /** The latest `limit` changes of every instance sharing the store, newest first. */
  async recent(limit: number): Promise<BoardRecent> {
    const { store } = this.dlr;
    const reports = await this.fromStore(() => store.recent(limit));
    return { changes: reports.map((report) => this.views.change(new DeliveryStatusChanged(report))) };
  }

  /**
   * The history of each message `query` names (an id, an omnimessage id, a prefix of 8+
   * characters of either, a phone number, a tracked send's ref), newest message first, at most
   * `BOARD_SEARCH_LIMIT`; with a store that tracks, the tracked sends concerned, with their ref
   * and result.
   */
  async search(query: string): Promise<BoardMessages> {
    const { store } = this.dlr;
    const tracking = trackingOf(store);
    const [found, byRef] = await Promise.all([
      this.fromStore(() => store.search(query, BOARD_SEARCH_LIMIT)),
      tracking ? this.fromStore(() => tracking.findByRef(query, BOARD_SEARCH_LIMIT)) : [],
    ]);
    // A ref names the tracked sends; their messages join the messages the query named.
    const messageIds = [
      ...new Set([
        ...found,
        ...byRef.flatMap((outcome) => outcome.messages.map((message) => message.messageId)),
      ]),
    ].slice(0, BOARD_SEARCH_LIMIT);
    const histories = await Promise.all(messageIds.map((messageId) => this.history(messageId)));
    const messages = messageIds
      .map((messageId, index) => ({
        messageId,
        history: histories[index]!.map((entry) => this.views.historyEntry(entry)),
      }))
      // A message forgotten between the two reads has no history left to show.
      .filter((message) => message.history.length > 0);
    if (!tracking) return { messages };
    const omnimessageIds = new Set(byRef.map((outcome) => outcome.omnimessageId));
    for (const message of messages) {
      const id = message.history.at(-1)?.raw['omnimessage_id'];
      if (typeof id === 'string') omnimessageIds.add(id);
    }
    const outcomes = await Promise.all(
      [...omnimessageIds]
        .slice(0, BOARD_SEARCH_LIMIT)
        .map((id) => this.fromStore(() => tracking.outcome(id))),
    );
    const tracked = outcomes
      .filter((outcome) => outcome !== null)
      .map((outcome) => this.views.outcome(toDeliveryOutcome(outcome)));
    // Untracked answers keep their shape: `outcomes` only when there are some.
    return tracked.length > 0 ? { messages, outcomes: tracked } : { messages };
  }

  /** The pending changes. */
  async pending(): Promise<BoardPending> {
    const { store } = this.dlr;
    const [count, reports] = await Promise.all([
      this.fromStore(() => store.countPending()),
      this.fromStore(() => store.listPending(BOARD_PENDING_LIMIT)),
    ]);
    return { count, changes: reports.map((report) => this.views.pending(report)) };
  }

  /**
   * The delivery analytics of the window ending now, from the store's buckets (every
   * instance's reports). A store without `deliveryBuckets` answers 501: it keeps none, and
   * asking again will not change that, so the page says so and stops asking.
   */
  async delivery(window: DeliveryWindow): Promise<DeliveryStats> {
    const { store } = this.dlr;
    if (typeof store.deliveryBuckets !== 'function') {
      const name = (store as object).constructor?.name ?? 'The store';
      throw new NotImplementedException(
        `${name} keeps no delivery analytics (it lacks deliveryBuckets() of DlrDeliveryStatsStore)`,
      );
    }
    const analytics = store as DlrStore & DlrDeliveryStatsStore;
    const now = Date.now();
    const rows = await this.fromStore(() => analytics.deliveryBuckets(window, now));
    return summarizeDelivery(window, now, rows);
  }

  /** Dispatches the pending changes again, as the sweep would; resolves once their handlers ran. */
  async redispatch(): Promise<{ dispatched: number }> {
    const { pending } = this.dlr;
    return { dispatched: await this.fromStore(() => pending.redispatchPending()) };
  }

  /** Every report of a message, oldest first, as `DeliveryStatusService.history()` reads them. */
  private history(messageId: string): Promise<DeliveryHistoryEntry[]> {
    const { statuses } = this.dlr;
    return this.fromStore(() => statuses.history(messageId));
  }

  private get dlr(): DlrParts {
    if (!this.parts) throw new ServiceUnavailableException('The board is not started yet');
    return this.parts;
  }

  /** A store that fails answers 503, as the webhook does: never a 500. */
  private async fromStore<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new ServiceUnavailableException(
        `The delivery-report store is unavailable: ${errorMessage(error)}`,
      );
    }
  }
}
