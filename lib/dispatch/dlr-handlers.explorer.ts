import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { KNOWN_STATUSES, isKnownStatus } from '../dlr-status.js';
import {
  ON_DELIVERY_OUTCOME_METADATA,
  ON_DLR_ALARM_METADATA,
  ON_DLR_STATUS_METADATA,
  LOGGER_CONTEXT,
} from '../messente-dlr.constants.js';
import type { AlarmHandler, DlrHandler, OutcomeHandler } from './dlr-handler.interface.js';

/** The results `@OnDeliveryOutcome` may name: every one that fires an event, and '*'. */
const OUTCOME_SELECTORS = ['delivered', 'failed', 'overdue', '*'];

/** The kinds `@OnDlrAlarm` may name, and '*'. */
const ALARM_SELECTORS = ['refusals', 'silence', 'account', '*'];

/** One decorated method found: its name, what it selects, and a call bound to its instance. */
interface Found {
  readonly name: string;
  readonly selectors: ReadonlySet<string>;
  readonly call: (event: unknown) => unknown;
}

/**
 * Finds every `@OnDlrStatus`, `@OnDeliveryOutcome` and `@OnDlrAlarm` method on providers and
 * controllers at bootstrap. Instances are scanned rather than classes so that `useValue` and `useFactory`
 * providers are found too. Request-scoped providers are refused with a warning: a delivery
 * report has no request of the user's to scope them to.
 */
@Injectable()
export class DlrHandlersExplorer {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Every `@OnDlrStatus` handler; throws when one names a status Messente does not have. */
  explore(): DlrHandler[] {
    return this.find(ON_DLR_STATUS_METADATA, '@OnDlrStatus', (selector) =>
      selector === '*' || isKnownStatus(selector)
        ? null
        : `unknown status. Valid statuses: ${KNOWN_STATUSES.join(', ')}, or '*' for all.`,
    ).map(({ name, selectors, call }) => ({ name, statuses: selectors, call }));
  }

  /** Every `@OnDeliveryOutcome` handler; throws when one names a result that fires no event. */
  exploreOutcomes(): OutcomeHandler[] {
    return this.find(ON_DELIVERY_OUTCOME_METADATA, '@OnDeliveryOutcome', (selector) =>
      OUTCOME_SELECTORS.includes(selector)
        ? null
        : `no such result. Valid results: delivered, failed, overdue, or '*' for all ` +
          '(pending fires no event).',
    ).map(({ name, selectors, call }) => ({ name, results: selectors, call }));
  }

  /** Every `@OnDlrAlarm` handler; throws when one names a kind of alarm there is not. */
  exploreAlarms(): AlarmHandler[] {
    return this.find(ON_DLR_ALARM_METADATA, '@OnDlrAlarm', (selector) =>
      ALARM_SELECTORS.includes(selector)
        ? null
        : `no such alarm. Valid kinds: refusals, silence, account, or '*' for all.`,
    ).map(({ name, selectors, call }) => ({ name, kinds: selectors, call }));
  }

  private find(
    metadataKey: string,
    decorator: string,
    invalid: (selector: string) => string | null,
  ): Found[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const handlers: Found[] = [];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      const found = this.scanner
        .getAllMethodNames(prototype)
        .map((name) => this.toHandler(wrapper, instance, name, metadataKey, decorator, invalid))
        .filter((handler): handler is Found => handler !== null);
      if (found.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(
          `${decorator} handlers of ${wrapper.name as string} are ignored: it is request-scoped ` +
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
    metadataKey: string,
    decorator: string,
    invalid: (selector: string) => string | null,
  ): Found | null {
    const method = instance[methodName];
    if (typeof method !== 'function') return null;
    const selectors: string[] | undefined = Reflect.getMetadata(metadataKey, method);
    if (!selectors) return null;
    const name = `${instance.constructor?.name ?? String(wrapper.name)}.${methodName}`;
    for (const selector of selectors) {
      const problem = invalid(selector);
      if (problem) throw new Error(`${decorator}('${selector}') on ${name}: ${problem}`);
    }
    return { name, selectors: new Set(selectors), call: (event: unknown) => method.call(instance, event) };
  }
}
