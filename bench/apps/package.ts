import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import {
  MessenteDlrModule,
  OnDlrStatus,
  type DeliveryStatusChanged,
  type MessenteDlrModuleOptions,
} from 'nestjs-messente-dlr';
import { CountController, handled } from './counter.js';

/** (c) This package with its defaults (in-memory store, acknowledge after store) and one `'*'` handler. */
@Injectable()
class DlrHandlers {
  @OnDlrStatus('*')
  onAny(_event: DeliveryStatusChanged): void {
    handled.count++;
  }
}

@Module({})
export class PackageAppModule {
  static register(secret: string, options: MessenteDlrModuleOptions = {}): DynamicModule {
    return {
      module: PackageAppModule,
      imports: [
        MessenteDlrModule.forRoot({ signatureSecrets: [secret], allowedIps: ['127.0.0.1'], ...options }),
      ],
      controllers: [CountController],
      providers: [DlrHandlers],
    };
  }
}
