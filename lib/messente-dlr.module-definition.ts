import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessenteDlrModuleOptions } from './interfaces/messente-dlr-options.interface.js';

/** Extras accepted by `forRoot` / `forRootAsync` beside the options themselves (`isGlobal`). @internal */
export interface MessenteDlrModuleExtras {
  /** Register the module globally, so `DeliveryStatusService` can be injected anywhere. */
  isGlobal?: boolean;
}

/**
 * The configurable-module plumbing of `MessenteDlrModule`: its base class, the injection token
 * of the raw options, and the option types of `forRoot` / `forRootAsync`.
 */
export const {
  ConfigurableModuleClass: ConfigurableMessenteDlrModule,
  MODULE_OPTIONS_TOKEN: MESSENTE_DLR_MODULE_OPTIONS,
  OPTIONS_TYPE: MESSENTE_DLR_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MESSENTE_DLR_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MessenteDlrModuleOptions>({ moduleName: 'MessenteDlr' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMessenteDlrOptions')
  .setExtras<MessenteDlrModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
