import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { CountController, handled } from './counter.js';

/** (a) The floor: a route that takes the parsed body and answers, nothing else. */
@Controller()
class BareDlrController {
  @Post('messente/dlr')
  @HttpCode(200)
  receive(@Body() _body: unknown): { ok: true } {
    handled.count++;
    return { ok: true };
  }
}

@Module({ controllers: [BareDlrController, CountController] })
export class BareAppModule {}
