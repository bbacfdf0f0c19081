/**
 * The `nestjs-messente-dlr/board` entry point: a live page of the delivery reports, apart
 * from the main entry so that apps without it load none of it.
 */
export { MessenteDlrBoardModule } from './messente-dlr-board.module.js';
export type { MessenteDlrBoardOptions } from './messente-dlr-board-options.interface.js';
export { maskRecipient } from './mask-recipient.js';
export { DEFAULT_BOARD_PATH } from './board.constants.js';
export type {
  BoardChange,
  BoardHistoryEntry,
  BoardOutcome,
  BoardPendingChange,
  BoardState,
} from './board-views.js';
export type { BoardMessages, BoardPending, BoardStats } from './dlr-board.service.js';
/** The answer of `GET {path}/api/delivery`, its rows and its windows. */
export type {
  DeliveryGroupStats,
  DeliveryStats,
  DeliveryWindow,
} from '../interfaces/delivery-stats.interface.js';
