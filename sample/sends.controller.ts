import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { DeliveryStatusService } from 'nestjs-messente-dlr';
import { buildSendAnswer } from 'nestjs-messente-dlr/testing';

/**
 * What `POST /messages` takes: a send answer to track (as `messente-dlr scenario --track` posts
 * it), or the channels of a send to make up, in fallback order; and the app's own reference.
 */
interface SendRequest {
  readonly answer?: unknown;
  readonly channels?: string[];
  readonly to?: string;
  readonly ref?: string;
}

/**
 * `POST /messages` "sends" a message and tracks it; `GET /outcomes/:ref` says what happened.
 * SAMPLE ONLY: the sample has no Messente account, so the send answer is built by the testing
 * kit with fresh ids, exactly as `POST /omnimessage` would answer (or `messente-dlr scenario
 * --track` posts the answers it made). A real app tracks the answer of its real send the same way.
 */
@Controller()
export class SendsController {
  constructor(private readonly statuses: DeliveryStatusService) {}

  @Post('messages')
  async send(@Body() body: SendRequest) {
    const answer = body.answer ?? buildSendAnswer({ channels: body.channels, to: body.to });
    const outcome = await this.statuses.track(answer, { ref: body.ref });
    return { answer, outcome };
  }

  @Get('outcomes/:ref')
  outcomes(@Param('ref') ref: string) {
    return this.statuses.findByRef(ref);
  }
}
