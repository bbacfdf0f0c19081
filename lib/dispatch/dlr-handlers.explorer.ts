import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { KNOWN_STATUSES, isKnownStatus } from '../dlr-status.js';
import { ON_DLR_STATUS_METADATA, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { DlrHandler } from './dlr-handler.interface.js';

/**
 * Finds every `@OnDlrStatus` method on providers and controllers at bootstrap.
 * Instances are scanned rather than classes so that `useValue` and `useFactory` providers
 * are found too. Request-scoped providers are refused with a warning: a delivery report
 * has no request of the user's to scope them to.
 */
@Injectable()
export class DlrHandlersExplorer {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Every handler found; throws when a handler names a status Messente does not have. */
  explore(): DlrHandler[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const handlers: DlrHandler[] = [];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      const found = this.scanner
        .getAllMethodNames(prototype)
        .map((name) => this.toHandler(wrapper, instance, name))
        .filter((handler): handler is DlrHandler => handler !== null);
      if (found.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(
          `@OnDlrStatus handlers of ${wrapper.name as string} are ignored: it is request-scoped ` +
            '(or depends on a request-scoped provider). Move them to a singleton provider.',
        );
        continue;
      }
      seen.add(instance);
      handlers.push(...found);
    }
    return handlers;
  }

  private toHandler(
    wrapper: InstanceWrapper,
    instance: Record<string, unknown>,
    methodName: string,
  ): DlrHandler | null {
    const method = instance[methodName];
    if (typeof method !== 'function') return null;
    const statuses: string[] | undefined = Reflect.getMetadata(ON_DLR_STATUS_METADATA, method);
    if (!statuses) return null;
    const name = `${instance.constructor?.name ?? String(wrapper.name)}.${methodName}`;
    for (const status of statuses) {
      if (status !== '*' && !isKnownStatus(status)) {
        throw new Error(
          `@OnDlrStatus('${status}') on ${name}: unknown status. ` +
            `Valid statuses: ${KNOWN_STATUSES.join(', ')}, or '*' for all.`,
        );
      }
    }
    return { name, statuses: new Set(statuses), call: (event) => method.call(instance, event) };
  }
}
