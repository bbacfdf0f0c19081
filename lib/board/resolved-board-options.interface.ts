import type { CanActivate, Type } from '@nestjs/common';

/** The board's options after validation and defaults. */
export interface ResolvedBoardOptions {
  /** Route of the page, without leading or trailing slashes. */
  readonly path: string;
  /** Guards of every route; empty only when `insecure` was set. */
  readonly guards: readonly (CanActivate | Type<CanActivate>)[];
  /** Whether recipients are masked. */
  readonly maskRecipients: boolean;
}
