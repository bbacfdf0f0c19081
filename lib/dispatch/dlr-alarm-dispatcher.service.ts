import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DeliveryAlarmsService } from '../alarms/delivery-alarms.service.js';
import type { DeliveryAlarm } from '../interfaces/delivery-alarm.interface.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { AlarmHandler } from './dlr-handler.interface.js';
import { DlrHandlersExplorer } from './dlr-handlers.explorer.js';

/**
 * Hands each alarm transition to the `@OnDlrAlarm` handlers of its kind. A transition is
 * judged on the webhook's path (a refusal, an accepted report), so handlers run after the
 * current I/O phase, when the answer has gone: the webhook never waits for them. Each is
 * called once, never retried (the next transition is the news); one that throws or rejects
 * is logged and the others still run.
 */
@Injectable()
export class DlrAlarmDispatcherService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly byKind = new Map<string, AlarmHandler[]>();
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly explorer: DlrHandlersExplorer,
    private readonly alarms: DeliveryAlarmsService,
  ) {}

  onModuleInit(): void {
    const handlers = this.explorer.exploreAlarms();
    for (const kind of ['refusals', 'silence', 'account']) {
      this.byKind.set(
        kind,
        handlers.filter((handler) => handler.kinds.has(kind) || handler.kinds.has('*')),
      );
    }
    if (handlers.length > 0) this.unlisten = this.alarms.listen((alarm) => this.dispatch(alarm));
  }

  onModuleDestroy(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  private dispatch(alarm: DeliveryAlarm): void {
    const handlers = this.byKind.get(alarm.kind) ?? [];
    if (handlers.length === 0) return;
    setImmediate(() => {
      for (const handler of handlers) void this.run(handler, alarm);
    });
  }

  private async run(handler: AlarmHandler, alarm: DeliveryAlarm): Promise<void> {
    try {
      await handler.call(alarm);
    } catch (error) {
      this.logger.error(
        `Alarm handler ${handler.name} failed on ${alarm.kind} ${alarm.state}`,
        error instanceof Error ? error.stack : String(error),
      );
    }
  }
}
