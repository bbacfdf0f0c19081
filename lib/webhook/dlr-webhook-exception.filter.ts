import { ArgumentsHost, Catch, HttpException, Injectable } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { DlrHttpRequest } from './http-request.js';
import { DlrTelemetryService } from '../telemetry/dlr-telemetry.service.js';
import { refusalReasonOf } from '../errors/refusal.js';

/**
 * The webhook's single point for refused answers: every refusal (guards, pipe, intake) is
 * thrown as an exception marked with its reason, and counted here, once, as its answer goes
 * out. The answer itself is Nest's usual one (`BaseExceptionFilter`).
 */
@Catch()
@Injectable()
export class DlrWebhookExceptionFilter extends BaseExceptionFilter {
  constructor(
    private readonly telemetry: DlrTelemetryService,
    adapterHost: HttpAdapterHost,
  ) {
    super(adapterHost.httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const reason = refusalReasonOf(exception);
    if (reason !== undefined) {
      const request = host.switchToHttp().getRequest<DlrHttpRequest>();
      const status = exception instanceof HttpException ? exception.getStatus() : 500;
      this.telemetry.requestRefused(reason, request.ip ?? '', status);
    }
    super.catch(exception, host);
  }
}
