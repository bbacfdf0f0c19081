import { Module, type DynamicModule } from '@nestjs/common';
import { MessenteDlrModule, type DlrStore } from 'nestjs-messente-dlr';
import { DeliveryLogHandlers } from './delivery-log.handlers.js';
import { MessagesController } from './messages.controller.js';
import type { SampleConfig } from './sample-config.js';

/** The sample app: the DLR webhook, handlers that log, and a status endpoint. */
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
      ],
      controllers: [MessagesController],
      providers: [DeliveryLogHandlers],
    };
  }
}
