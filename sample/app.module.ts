import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessenteDlrModule, type DlrStore } from 'nestjs-messente-dlr';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';
import { MessenteDlrBoardModule } from 'nestjs-messente-dlr/board';
import { DeliveryLogHandlers } from './delivery-log.handlers.js';
import { HealthController } from './health.controller.js';
import { MessagesController } from './messages.controller.js';
import { SendsController } from './sends.controller.js';
import { MetricsController } from './metrics.controller.js';
import type { SampleConfig } from './sample-config.js';

/**
 * The sample app: the DLR webhook, handlers that log, a status endpoint, tracked sends and their
 * outcomes, metrics, health and the board.
 */
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
        // SAMPLE ONLY: no guards, because the sample listens on 127.0.0.1 only (main.ts).
        // An app others can reach passes `guards: [YourAdminGuard]` instead of `insecure`.
        MessenteDlrBoardModule.forRoot({ path: 'messente/board', insecure: true }),
      ],
      controllers: [MessagesController, SendsController, MetricsController, HealthController],
      providers: [DeliveryLogHandlers, MessenteDlrHealthIndicator],
    };
  }
}
