import type { CanActivate, Type } from '@nestjs/common';

/** Options of `MessenteDlrBoardModule.forRoot()`. */
export interface MessenteDlrBoardOptions {
  /** Route of the page, under the app's global prefix; the API is under `{path}/api/`. Default `messente/board`. */
  path?: string;
  /**
   * Guards protecting the page and every API route, as for `@UseGuards()`: the board shows
   * delivery data, so they are required unless `insecure` is true. Guard classes are
   * instantiated in the board's module: their dependencies must come from global modules.
   */
  guards?: (CanActivate | Type<CanActivate>)[];
  /** Serve the board without guards (an app that listens on loopback only, say). Default false. */
  insecure?: boolean;
  /** Show recipients as `+372*****55` on the page and in the API. Default true. */
  maskRecipients?: boolean;
}
