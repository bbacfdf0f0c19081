import { ForbiddenException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { BOARD_REQUEST_HEADER } from './board.constants.js';

/** What the guard reads of a request; Express's and Fastify's requests both have it. */
interface OriginRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  /** `http` or `https`, as the adapter sees it (`X-Forwarded-Proto` when the proxy is trusted). */
  readonly protocol?: string;
  /** Host and port, as the adapter sees it (`X-Forwarded-Host` when the proxy is trusted). */
  readonly host?: string;
}

/**
 * Refuses a state-changing board request that another site could have made with the user's
 * cookies: it must carry `x-messente-board: 1` (no cross-site form or no-cors fetch can), and
 * when the browser says where it came from (`Sec-Fetch-Site`, `Origin`), that must be the
 * board's own origin. Every refusal is a 403 that says which rule failed.
 */
@Injectable()
export class BoardSameOriginGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<OriginRequest>();
    const header = (name: string) => request.headers[name];
    if (header(BOARD_REQUEST_HEADER) !== '1') {
      throw refused(
        `the request must carry the header ${BOARD_REQUEST_HEADER}: 1 (the board's page sends it)`,
      );
    }
    const site = header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin') {
      throw refused(`Sec-Fetch-Site is ${String(site)}, not same-origin`);
    }
    const origin = header('origin');
    if (origin !== undefined) {
      const own = ownOrigin(request);
      if (typeof origin !== 'string' || own === null || normalOrigin(origin) !== own) {
        throw refused(
          `Origin ${String(origin)} is not this board's origin ${own ?? '(unknown)'}; behind a proxy, ` +
            'trust it (Express `trust proxy`, Fastify `trustProxy`) so that the app sees the public scheme and host',
        );
      }
    }
    return true;
  }
}

function refused(why: string): ForbiddenException {
  return new ForbiddenException(`Cross-site request refused: ${why}`);
}

/** The request's own origin, from the adapter's scheme and host, or null when it has none. */
function ownOrigin(request: OriginRequest): string | null {
  if (!request.protocol || !request.host) return null;
  return normalOrigin(`${request.protocol}://${request.host}`);
}

/** An origin in the URL standard's form (lower case, default port dropped), or null. */
function normalOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    // An opaque origin ("null") or anything with a path is no origin to compare.
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}
