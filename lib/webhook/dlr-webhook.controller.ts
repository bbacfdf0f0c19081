import { Body, Controller, HttpCode, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DlrBodyGuard } from './dlr-body.guard.js';
import { DlrSignatureGuard } from './dlr-signature.guard.js';
import { IpAllowlistGuard } from './ip-allowlist.guard.js';
import { DlrPayloadPipe } from './dlr-payload.pipe.js';
import type { DlrPayload } from '../payload/dlr-payload.js';
import { DlrIntakeService, type DlrAnswer } from '../services/dlr-intake.service.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { DlrWebhookExceptionFilter } from './dlr-webhook-exception.filter.js';
import { DLR_TEST_REPORT_ANSWER, isDlrTestReport } from '../payload/dlr-test-report.js';
import { reportAccountOf, type DlrHttpRequest } from './http-request.js';

/**
 * The webhook Messente posts to. Guards run in order: source IP (403), body type and
 * size (415/413), signature (401); then the pipe validates (400). Accepted requests are
 * counted here, refused ones by `DlrWebhookExceptionFilter`.
 */
@Controller()
@UseFilters(DlrWebhookExceptionFilter)
export class DlrWebhookController {
  constructor(
    private readonly intake: DlrIntakeService,
    private readonly telemetry: DlrTelemetryService,
  ) {}

  /**
   * Receives one delivery report. A signed test report (`messente-dlr doctor`) has passed
   * every check a real one does; it is answered here, so it is never recorded or dispatched.
   */
  @Post()
  @HttpCode(200)
  @UseGuards(IpAllowlistGuard, DlrBodyGuard, DlrSignatureGuard)
  async receive(
    @Body(DlrPayloadPipe) payload: DlrPayload,
    @Req() request: DlrHttpRequest,
  ): Promise<DlrAnswer | typeof DLR_TEST_REPORT_ANSWER> {
    // Not a real report: neither recorded, dispatched nor counted.
    if (isDlrTestReport(payload)) return DLR_TEST_REPORT_ANSWER;
    // The account whose secret verified the report (the signature guard noted it), or null.
    const answer = await this.intake.accept(payload, reportAccountOf(request));
    this.telemetry.requestAccepted();
    return answer;
  }
}

/**
 * A controller class of its own for one module registration. The route and the user's
 * class decorators are set on it once the (possibly async) options are known, which is
 * before Nest registers routes; a class per registration keeps two apps in one process
 * (tests, say) from sharing a path.
 */
export function createDlrWebhookController(): typeof DlrWebhookController {
  @Controller()
  class MessenteDlrWebhookController extends DlrWebhookController {}
  return MessenteDlrWebhookController;
}

/**
 * Applies the resolved path and decorators to a controller made by `createDlrWebhookController`.
 * With the resolver form of `accounts` the route ends in `/:account`: the path names the account.
 */
export function configureDlrWebhookController(
  controller: typeof DlrWebhookController,
  path: string,
  decorators: readonly ClassDecorator[],
  accountInPath = false,
): void {
  Reflect.defineMetadata(PATH_METADATA, accountInPath ? `${path}/:account` : path, controller);
  for (const decorator of decorators) decorator(controller);
}
