import { Module, type DynamicModule } from '@nestjs/common';
import { MessenteDlrConfigError } from '../errors/messente-dlr-config.error.js';
import { BOARD_OPTIONS, DEFAULT_BOARD_PATH } from './board.constants.js';
import { createDlrBoardController } from './dlr-board.controller.js';
import { DlrBoardService } from './dlr-board.service.js';
import type { MessenteDlrBoardOptions } from './messente-dlr-board-options.interface.js';
import type { ResolvedBoardOptions } from './resolved-board-options.interface.js';

/**
 * A live web page of the delivery reports the app receives, with a small JSON and SSE API,
 * for developers and support staff. Needs `MessenteDlrModule` in the same app.
 *
 * @example
 * ```ts
 * MessenteDlrBoardModule.forRoot({ path: 'messente/board', guards: [AdminGuard] })
 * ```
 */
@Module({})
export class MessenteDlrBoardModule {
  /** Registers the board. Throws, naming the option, when `guards` is missing and `insecure` is not set. */
  static forRoot(options: MessenteDlrBoardOptions = {}): DynamicModule {
    const resolved = resolveBoardOptions(options);
    return {
      module: MessenteDlrBoardModule,
      controllers: [createDlrBoardController(resolved)],
      providers: [{ provide: BOARD_OPTIONS, useValue: resolved }, DlrBoardService],
    };
  }
}

function resolveBoardOptions(options: MessenteDlrBoardOptions): ResolvedBoardOptions {
  const fail = (option: string, problem: string) =>
    new MessenteDlrConfigError(option, problem, 'MessenteDlrBoardModule');
  const guards = options.guards ?? [];
  if (!Array.isArray(guards)) throw fail('guards', 'must be an array of guards');
  if (guards.length === 0 && options.insecure !== true) {
    throw fail(
      'guards',
      'is empty: the board shows delivery data (recipients, statuses), so it needs guards. ' +
        'Pass `guards: [YourAdminGuard]`, or set `insecure: true` for an app only you can reach.',
    );
  }
  const path = options.path ?? DEFAULT_BOARD_PATH;
  const trimmed = typeof path === 'string' ? path.trim().replace(/^\/+|\/+$/g, '') : '';
  if (trimmed === '') throw fail('path', 'must be a non-empty route such as "messente/board"');
  return { path: trimmed, guards, maskRecipients: options.maskRecipients !== false };
}
