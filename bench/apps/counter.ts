import { Controller, Get } from '@nestjs/common';

/** Handler calls in this process; every bench app increments it once per handled report. */
export const handled = { count: 0 };

/** `GET /count`: how many reports reached the handler, for the parent's correctness check. */
@Controller()
export class CountController {
  @Get('count')
  count(): { count: number } {
    return { count: handled.count };
  }
}
