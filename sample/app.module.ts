import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessenteDlrModule, type DlrStore } from 'nestjs-messente-dlr';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';
import { DeliveryLogHandlers } from './delivery-log.handlers.js';
import { HealthController } from './health.controller.js';
import { MessagesController } from './messages.controller.js';
import { MetricsController } from './metrics.controller.js';
import type { SampleConfig } from './sample-config.js';

/** The sample app: the DLR webhook, handlers that log, a status endpoint, metrics and health. */
@Module({})
export class AppModule {
  static register(config: SampleConfig, store: DlrStore | undefined): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [config.secret],
          credentials: config.credentials ?? undefined,
          apiUrl: config.apiUrl,
          allowedIps: config.allowedIps,
          store,
        }),
        TerminusModule,
      ],
      controllers: [MessagesController, MetricsController, HealthController],
      providers: [DeliveryLogHandlers, MessenteDlrHealthIndicator],
    };
  }
}
