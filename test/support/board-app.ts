import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import {
  DeliveryStatusChanged,
  MessenteDlrModule,
  OnDlrStatus,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { MessenteDlrBoardModule, type MessenteDlrBoardOptions } from '../../lib/board/index.js';
import { startApp, type AdapterName, type TestApp, type TestAppOptions } from './app.js';

/** The header of an admin request that `AdminGuard` lets through. */
export const ADMIN = { authorization: 'Bearer admin' } as const;

/** The header the board's page sends with a state-changing request (cross-site protection). */
export const FROM_BOARD = { 'x-messente-board': '1' } as const;

/** The user's guard of the board: 401 without a token, 403 with a wrong one. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers[
      'authorization'
    ];
    if (!header) throw new UnauthorizedException('a token is required');
    return header === ADMIN.authorization;
  }
}

/** A handler that fails while `failing` is set, so that its changes stay pending. */
@Injectable()
export class FlakyHandler {
  static failing = false;
  static calls: string[] = [];

  /** Back to succeeding, with no calls seen. */
  static reset(): void {
    FlakyHandler.failing = false;
    FlakyHandler.calls = [];
  }

  @OnDlrStatus('*')
  handle(event: DeliveryStatusChanged): void {
    FlakyHandler.calls.push(`${event.messageId}:${event.status}`);
    if (FlakyHandler.failing) throw new Error('downstream is down');
  }
}

/** Options of `startBoardApp`: the two modules' options and the test app's own. */
export interface BoardAppOptions extends TestAppOptions {
  readonly secret: string;
  readonly board?: MessenteDlrBoardOptions;
  readonly dlr?: MessenteDlrModuleOptions;
}

/**
 * A test app with `MessenteDlrModule` (one try per handler, no sweep, so pending changes
 * stay put until a test redispatches them), the board and `FlakyHandler`.
 */
export function startBoardApp(
  adapter: AdapterName,
  { secret, board = {}, dlr = {}, ...app }: BoardAppOptions,
): Promise<TestApp> {
  return startApp(
    adapter,
    {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [secret],
          allowedIps: ['127.0.0.1'],
          handlerAttempts: 1,
          pendingSweepIntervalMs: 0,
          ...dlr,
        }),
        MessenteDlrBoardModule.forRoot(board),
      ],
      providers: [FlakyHandler],
    },
    app,
  );
}

/** Options of `startBrowserBoardApp`. */
export interface BrowserBoardAppOptions {
  readonly secret: string;
  readonly port?: number;
  readonly trustProxy?: boolean;
  /** Options of `MessenteDlrModule` (a store shared by two apps, say). */
  readonly dlr?: MessenteDlrModuleOptions;
}

/**
 * A board app for a browser: no guards (`insecure`), and open connections destroyed at
 * close, because a browser keeps sockets and the event stream open.
 */
export function startBrowserBoardApp(
  adapter: AdapterName,
  { secret, port, trustProxy, dlr }: BrowserBoardAppOptions,
): Promise<TestApp> {
  return startBoardApp(adapter, {
    secret,
    dlr,
    board: { insecure: true },
    port,
    trustProxy,
    forceCloseConnections: true,
  });
}
