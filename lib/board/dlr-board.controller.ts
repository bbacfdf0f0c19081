import {
  BadRequestException,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Sse,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import type { Observable } from 'rxjs';
import { BOARD_MAX_ID_LENGTH } from './board.constants.js';
import { BOARD_PAGE_CSP, BOARD_PAGE_HTML } from './board-page.js';
import type { DeliveryStats } from '../interfaces/delivery-stats.interface.js';
import { parseDeliveryWindow, parseRecentLimit, parseSearchQuery } from './board-query.js';
import { BoardSameOriginGuard } from './board-same-origin.guard.js';
import {
  DlrBoardService,
  type BoardMessages,
  type BoardPending,
  type BoardRecent,
  type BoardStats,
} from './dlr-board.service.js';
import type { ResolvedBoardOptions } from './resolved-board-options.interface.js';

/** The board's page and its JSON and SSE API under `api/`. The user's guards cover every route. */
@Controller()
export class DlrBoardController {
  constructor(private readonly board: DlrBoardService) {}

  /** The page: one self-contained document. */
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', BOARD_PAGE_CSP)
  @Header('cache-control', 'no-store')
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  page(): string {
    return BOARD_PAGE_HTML;
  }

  /** `DeliveryReportStats.snapshot()` plus `pending`. */
  @Get('api/stats')
  @Header('cache-control', 'no-store')
  stats(): Promise<BoardStats> {
    return this.board.stats();
  }

  /** The live feed: one `event: change` per accepted change. */
  @Sse('api/changes')
  changes(): Observable<MessageEvent> {
    return this.board.changes();
  }

  /** The latest changes from the store, newest first, shaped as the live stream's: the feed starts from them. */
  @Get('api/recent')
  @Header('cache-control', 'no-store')
  recent(@Query('limit') limit: unknown): Promise<BoardRecent> {
    return this.board.recent(parseRecentLimit(limit));
  }

  /** Every report of each message an id, an id prefix or a phone number names. */
  @Get('api/search')
  @Header('cache-control', 'no-store')
  search(@Query('q') q: unknown): Promise<BoardMessages> {
    return this.board.search(parseSearchQuery(q));
  }

  /** Every report of a message, or of each message of an omnimessage, oldest first. */
  @Get('api/messages/:id')
  @Header('cache-control', 'no-store')
  messages(@Param('id') id: string): Promise<BoardMessages> {
    if (id.length > BOARD_MAX_ID_LENGTH) {
      throw new BadRequestException(`id must be at most ${BOARD_MAX_ID_LENGTH} characters`);
    }
    return this.board.messages(id);
  }

  /**
   * Delivery rate, failures by reason and time to deliver, by channel and by country, over
   * the last hour (`window=1h`) or 24 hours (`window=24h`), from the store's buckets.
   */
  @Get('api/delivery')
  @Header('cache-control', 'no-store')
  delivery(@Query('window') window: unknown): Promise<DeliveryStats> {
    return this.board.delivery(parseDeliveryWindow(window));
  }

  /** The changes whose handlers have not all succeeded. */
  @Get('api/pending')
  @Header('cache-control', 'no-store')
  pending(): Promise<BoardPending> {
    return this.board.pending();
  }

  /** Runs the handlers of pending changes again; only when asked by the board's own page. */
  @Post('api/pending/redispatch')
  @HttpCode(200)
  @UseGuards(BoardSameOriginGuard)
  redispatch(): Promise<{ dispatched: number }> {
    return this.board.redispatch();
  }
}

/**
 * A controller class of its own for one board, with its path and the user's guards: a class
 * per registration keeps two apps in one process from sharing them.
 */
export function createDlrBoardController(options: ResolvedBoardOptions): typeof DlrBoardController {
  @Controller()
  class MessenteDlrBoardController extends DlrBoardController {}
  Reflect.defineMetadata(PATH_METADATA, options.path, MessenteDlrBoardController);
  if (options.guards.length > 0) UseGuards(...options.guards)(MessenteDlrBoardController);
  return MessenteDlrBoardController;
}
