import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import type { DeliveryStatusChanged } from '../events/delivery-status-changed.event.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';

type Publish = (event: DeliveryStatusChanged) => void;

/**
 * Republishes changes on `@nestjs/cqrs`'s `EventBus` and `@nestjs/event-emitter`'s
 * `EventEmitter2` when enabled. Both are optional peers, so they are imported only when an
 * option asks for them: the package must load without them.
 */
@Injectable()
export class DlrBusBridgesService {
  private publishers: Publish[] = [];

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Looks the buses up; called once at bootstrap, when every module's providers exist. */
  async connect(): Promise<void> {
    const publishers: Publish[] = [];
    if (this.options.cqrs) {
      const { EventBus } = await importPeer<typeof import('@nestjs/cqrs')>('@nestjs/cqrs', 'cqrs');
      const bus = this.find(EventBus, 'cqrs', 'CqrsModule.forRoot()');
      publishers.push((event) => bus.publish(event));
    }
    if (this.options.eventEmitter) {
      const { EventEmitter2 } = await importPeer<typeof import('@nestjs/event-emitter')>(
        '@nestjs/event-emitter',
        'eventEmitter',
      );
      const emitter = this.find(EventEmitter2, 'eventEmitter', 'EventEmitterModule.forRoot()');
      publishers.push((event) => emitter.emit(`messente.dlr.${event.status}`, event));
    }
    this.publishers = publishers;
  }

  /** Publishes one change on every connected bus. */
  publish(event: DeliveryStatusChanged): void {
    for (const publish of this.publishers) publish(event);
  }

  private find<T>(token: abstract new (...args: never[]) => T, option: string, module: string): T {
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      throw new Error(`MessenteDlrModule: option \`${option}\` is on, but ${module} is not imported`);
    }
  }
}

async function importPeer<T>(name: string, option: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new Error(`MessenteDlrModule: option \`${option}\` needs the package ${name}: npm install ${name}`);
  }
}
