import { HttpModule, HttpService } from '@nestjs/axios';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import {
  configureDlrWebhookController,
  createDlrWebhookController,
} from './webhook/dlr-webhook.controller.js';
import { DlrBusBridgesService } from './dispatch/dlr-bus-bridges.service.js';
import { DlrDispatcherService } from './dispatch/dlr-dispatcher.service.js';
import { DlrHandlersExplorer } from './dispatch/dlr-handlers.explorer.js';
import { DlrAlarmDispatcherService } from './dispatch/dlr-alarm-dispatcher.service.js';
import { DeliveryAlarmsService } from './alarms/delivery-alarms.service.js';
import { DlrPendingService } from './dispatch/dlr-pending.service.js';
import { DlrLifecycleService } from './dispatch/dlr-lifecycle.service.js';
import { OutcomeDispatcherService } from './dispatch/outcome-dispatcher.service.js';
import { DeliveryStatusEvents } from './events/delivery-status-events.service.js';
import type { MessenteDlrModuleOptions } from './interfaces/messente-dlr-options.interface.js';
import { DLR_OPTIONS, DLR_STORE, LOGGER_CONTEXT } from './messente-dlr.constants.js';
import {
  ConfigurableMessenteDlrModule,
  MESSENTE_DLR_ASYNC_OPTIONS_TYPE,
  MESSENTE_DLR_MODULE_OPTIONS,
  MESSENTE_DLR_OPTIONS_TYPE,
} from './messente-dlr.module-definition.js';
import type { ResolvedDlrOptions } from './interfaces/resolved-dlr-options.interface.js';
import { DeliveryStatusService } from './services/delivery-status.service.js';
import { DlrIntakeService } from './services/dlr-intake.service.js';
import { ApiAnswerRecorderService } from './services/api-answer-recorder.service.js';
import { OutcomeTrackingService } from './services/outcome-tracking.service.js';
import { MessenteApiClient } from './services/messente-api.client.js';
import { ReconcileScheduleService } from './services/reconcile-schedule.service.js';
import { StoreAvailabilityService } from './services/store-availability.service.js';
import { InMemoryDlrStore } from './stores/in-memory-dlr.store.js';
import { DeliveryReportStats } from './telemetry/delivery-report-stats.service.js';
import { DlrTelemetryService } from './telemetry/dlr-telemetry.service.js';
import { resolveOptions } from './config/resolve-options.js';
import { DlrAccountsService } from './accounts/dlr-accounts.service.js';
import { SecretsMatchedLogService } from './accounts/secrets-matched-log.service.js';

/**
 * Receives Messente's delivery reports: registers the webhook, validates and records
 * each report, and calls `@OnDlrStatus` handlers for every change.
 *
 * @example
 * ```ts
 * MessenteDlrModule.forRoot({ signatureSecrets: [process.env.MESSENTE_API_PASSWORD!] })
 * ```
 */
@Module({})
export class MessenteDlrModule extends ConfigurableMessenteDlrModule {
  /** Registers the module with options known now. */
  static override forRoot(options: typeof MESSENTE_DLR_OPTIONS_TYPE = {}): DynamicModule {
    return withInternals(super.forRoot(options));
  }

  /** Registers the module with options from a factory, class or existing provider. */
  static override forRootAsync(options: typeof MESSENTE_DLR_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withInternals(super.forRootAsync(options));
  }
}

function withInternals(base: DynamicModule): DynamicModule {
  const controller = createDlrWebhookController();
  const resolved: Provider = {
    provide: DLR_OPTIONS,
    inject: [MESSENTE_DLR_MODULE_OPTIONS],
    useFactory: (options: MessenteDlrModuleOptions) => {
      const resolvedOptions = resolveOptions(options, () => new InMemoryDlrStore());
      if (resolvedOptions.secrets.length === 0 && !resolvedOptions.accounts && resolvedOptions.allowList) {
        // Legal, but weaker than it looks: any Messente customer can post from these IPs.
        new Logger(LOGGER_CONTEXT).warn(
          'No signature secret is set: reports are checked by source IP only. Set `signatureSecrets` ' +
            'or `credentials` so that only reports about your own messages are accepted.',
        );
      }
      configureDlrWebhookController(
        controller,
        resolvedOptions.path,
        resolvedOptions.controllerDecorators,
        resolvedOptions.accounts?.kind === 'resolver',
      );
      return resolvedOptions;
    },
  };
  const store: Provider = {
    provide: DLR_STORE,
    inject: [DLR_OPTIONS],
    useFactory: (options: ResolvedDlrOptions) => options.store,
  };
  // A module-local HttpService: the user's own axios interceptors and defaults stay theirs.
  const apiClient: Provider = {
    provide: MessenteApiClient,
    inject: [HttpService, DLR_OPTIONS, DlrTelemetryService],
    useFactory: (http: HttpService, options: ResolvedDlrOptions, telemetry: DlrTelemetryService) =>
      new MessenteApiClient(
        http,
        {
          apiUrl: options.apiUrl,
          credentials: options.credentials,
          timeoutMs: options.apiTimeoutMs,
          retries: options.apiRetries,
        },
        telemetry,
      ),
  };
  return {
    ...base,
    imports: [...(base.imports ?? []), DiscoveryModule, HttpModule.register({})],
    controllers: [controller],
    providers: [
      ...(base.providers ?? []),
      resolved,
      store,
      DeliveryStatusEvents,
      DlrBusBridgesService,
      DlrDispatcherService,
      DlrHandlersExplorer,
      DlrPendingService,
      DlrLifecycleService,
      StoreAvailabilityService,
      DlrIntakeService,
      OutcomeDispatcherService,
      ApiAnswerRecorderService,
      OutcomeTrackingService,
      apiClient,
      DeliveryStatusService,
      ReconcileScheduleService,
      DeliveryReportStats,
      DlrTelemetryService,
      DeliveryAlarmsService,
      DlrAlarmDispatcherService,
      DlrAccountsService,
      SecretsMatchedLogService,
    ],
    exports: [DeliveryStatusEvents, DeliveryStatusService, DlrPendingService, DeliveryReportStats, DLR_STORE],
  };
}
