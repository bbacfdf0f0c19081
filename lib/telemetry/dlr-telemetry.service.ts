import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { MeterProvider, Span, TracerProvider } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { isKnownStatus } from '../dlr-status.js';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import { DeliveryAlarmsService } from '../alarms/delivery-alarms.service.js';
import type { RecordOutcome, RecordResult } from '../interfaces/dlr-store.interface.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import type { OutcomeChange, StoredOutcome } from '../interfaces/outcome-store.interface.js';
import { countryOf } from '../payload/country-of.js';
import { DeliveryLedger, channelKey, type LedgerSentMessage } from './delivery-ledger.js';
import { DeliveryReportStats } from './delivery-report-stats.service.js';
import { loadOtelApi, type OtelApiModule } from './otel-api.js';
import { OtelDlrSink, TELEMETRY_NAME } from './otel-dlr-sink.js';
import { RefusalLog } from './refusal-log.js';
import type { RefusalReason } from '../interfaces/refusal-reason.js';

/** Where a handler's span hangs: the record span, opaque outside telemetry. */
export type TraceParent = unknown;

/** One handler try being traced: its span, and what its duration is recorded with. */
export interface HandlerTry {
  readonly span: Span;
  readonly name: string;
  /** The `messente.dlr.status` attribute. */
  readonly status: string;
  /** `performance.now()` when the try began. */
  readonly started: number;
}

/**
 * True when neither provider records anything: no SDK was registered (or passed). Recording
 * into the API's no-op instruments would still allocate a span and a context per report, so
 * the module then records nothing at all. An SDK must be registered before the app starts.
 */
function isNoop(api: OtelApiModule, meterProvider: MeterProvider, tracerProvider: TracerProvider): boolean {
  const noopMeter = meterProvider.getMeter(TELEMETRY_NAME).constructor === api.createNoopMeter().constructor;
  const noopTracer =
    tracerProvider instanceof api.ProxyTracerProvider &&
    tracerProvider.getDelegateTracer(TELEMETRY_NAME) === undefined;
  return noopMeter && noopTracer;
}

/** The `messente.dlr.status` of a status: itself when documented, else `_OTHER`. */
export function statusAttribute(status: string): string {
  return isKnownStatus(status) ? status : '_OTHER';
}

/**
 * The module's one recording point. Guards, pipe and intake (through
 * `DlrWebhookExceptionFilter` and the controller), the dispatcher and the API client report
 * here, and every event fans out to its sinks: `DeliveryReportStats` and the alarms
 * (`DeliveryAlarmsService`) always, OpenTelemetry when `@opentelemetry/api` is installed, an
 * SDK is registered (or passed) and `telemetry` is not false. Internal.
 */
@Injectable()
export class DlrTelemetryService implements OnModuleDestroy {
  private readonly otel: OtelDlrSink | null;
  private readonly refusalLog = new RefusalLog();
  private readonly ledger: DeliveryLedger | null;

  constructor(
    @Inject(DLR_OPTIONS) options: ResolvedDlrOptions,
    private readonly stats: DeliveryReportStats,
    private readonly alarms: DeliveryAlarmsService,
  ) {
    const api = options.telemetry ? loadOtelApi() : null;
    const meterProvider = (options.meterProvider as MeterProvider | null) ?? api?.metrics.getMeterProvider();
    const tracerProvider =
      (options.tracerProvider as TracerProvider | null) ?? api?.trace.getTracerProvider();
    this.otel =
      api && meterProvider && tracerProvider && !isNoop(api, meterProvider, tracerProvider)
        ? new OtelDlrSink(api, meterProvider, tracerProvider, () => options.store.countPending())
        : null;
    const otel = this.otel;
    this.ledger = DeliveryLedger.of(options.store, (seconds, channel, country) =>
      otel?.deliveryMeasured(seconds, channel, country),
    );
  }

  onModuleDestroy(): void {
    this.otel?.close();
  }

  /** A webhook request answered 2xx. */
  requestAccepted(): void {
    this.stats.requestAccepted();
    this.otel?.requestAccepted();
    this.alarms.requestAccepted();
  }

  /** A webhook request refused, once its answer is decided: counted, and logged (rate-limited). */
  requestRefused(reason: RefusalReason, ip: string, httpStatus: number): void {
    this.refusalLog.refused(reason, ip, httpStatus);
    this.stats.requestRefused(reason, ip, httpStatus);
    this.otel?.requestRefused(reason);
    this.alarms.requestRefused(reason);
  }

  /**
   * Opens the recording of one report: its `messente.dlr.record` span when tracing, which
   * becomes the parent of the change's handler spans. End it with `recorded` or `recordFailed`.
   * Split in two rather than wrapping the store call: the span is handed on to the dispatcher
   * as its handlers' parent, and it ends with the outcome the intake decided. The store call's
   * own duration is timed apart, by `store()`.
   */
  startRecord(messageId: string, status: string): TraceParent {
    return this.otel?.startRecord(messageId, statusAttribute(status));
  }

  /** The store decided about a report opened with `startRecord`: counts the outcome. */
  recorded(trace: TraceParent, outcome: RecordOutcome, status: string): void {
    this.stats.reportRecorded(outcome, status);
    this.otel?.reportRecorded(trace as Span, outcome, statusAttribute(status));
  }

  /** The store could not decide about a report opened with `startRecord`. */
  recordFailed(trace: TraceParent, error: unknown): void {
    this.otel?.failed(trace as Span, error);
  }

  /**
   * A report the store recorded after the 503 for it went out: the request was counted as
   * refused, yet the store decided about the report, so it counts like any other (no span:
   * the request's own has ended).
   */
  lateRecorded(outcome: RecordOutcome, status: string): void {
    this.stats.reportRecorded(outcome, status);
    this.otel?.reportCounted(outcome, statusAttribute(status));
  }

  /**
   * What the store decided about a report (on time or after its 503): a status change counts
   * in the delivery analytics (its message's start, and end when final), an outcome change in
   * `messente.dlr.outcomes`.
   */
  changed(result: RecordResult): void {
    if (result.report) this.reportChanged(result.report);
    if (result.outcomeChange) this.outcomeChanged(result.outcomeChange);
  }

  /** A status change: the delivery analytics count its message's start, and end when final. */
  reportChanged(report: StoredReport): void {
    this.ledger?.reportChanged(report);
    this.alarms.reportChanged(report);
  }

  /** A send was tracked at `at`: its messages start there for the delivery analytics. */
  tracked(messages: readonly LedgerSentMessage[], to: string | null, at: number): void {
    this.ledger?.tracked(messages, to, at);
  }

  /** A `track()` answered `outcome`: the `silence` alarm watches it while it is pending. */
  outcomeTracked(outcome: StoredOutcome): void {
    this.alarms.tracked(outcome);
  }

  /**
   * A tracked omnimessage's outcome changed (`messente.dlr.outcomes`), counted where the
   * store decided it, so once per (omnimessage, result) across redispatches. The channel is
   * the one that delivered, else the last one tried.
   */
  outcomeChanged(change: OutcomeChange): void {
    this.alarms.outcomeChanged(change.outcome);
    const otel = this.otel;
    if (!otel) return;
    const { outcome } = change;
    const channel = outcome.deliveredVia ?? outcome.messages.at(-1)?.channel;
    otel.outcomeCounted(outcome.result, channelKey(channel), countryOf(outcome.to));
  }

  /** Times one store call (`messente.dlr.store.duration`). */
  store<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const otel = this.otel;
    if (!otel) return call();
    const started = performance.now();
    return call().then(
      (result) => {
        otel.storeCalled(operation, (performance.now() - started) / 1_000);
        return result;
      },
      (error: unknown) => {
        otel.storeCalled(operation, (performance.now() - started) / 1_000, error);
        throw error;
      },
    );
  }

  /**
   * Opens one handler try: its `messente.dlr.handle` span and start time when tracing, else
   * nothing. End it with `handlerSucceeded` or `handlerFailed`.
   */
  startHandler(
    name: string,
    messageId: string,
    status: string,
    attempt: number,
    parent: TraceParent,
  ): HandlerTry | undefined {
    const otel = this.otel;
    if (!otel) return undefined;
    const attribute = statusAttribute(status);
    const span = otel.startHandler(name, messageId, attribute, attempt, parent as Span | undefined);
    return { span, name, status: attribute, started: performance.now() };
  }

  /** A handler try opened with `startHandler` returned. */
  handlerSucceeded(handlerTry: HandlerTry | undefined): void {
    this.handlerEnded(handlerTry);
  }

  /** A handler try opened with `startHandler` threw `error`. */
  handlerFailed(handlerTry: HandlerTry | undefined, error: unknown): void {
    this.stats.handlerFailed();
    this.handlerEnded(handlerTry, error);
  }

  private handlerEnded(handlerTry: HandlerTry | undefined, error?: unknown): void {
    if (!handlerTry || !this.otel) return;
    const { span, name, status, started } = handlerTry;
    this.otel.handlerTried(span, name, status, (performance.now() - started) / 1_000, error);
  }

  /** A handler's last try failed: the change stays pending. */
  handlerExhausted(name: string): void {
    this.stats.handlerGaveUp();
    this.otel?.handlerExhausted(name);
  }

  /** Runs one status-API query (all its tries) inside `messente.status_api.query`. */
  async apiQuery<T>(omnimessageId: string, query: () => Promise<T>): Promise<T> {
    const otel = this.otel;
    if (!otel) return query();
    const span = otel.startApiQuery(omnimessageId);
    try {
      const result = await query();
      span.end();
      return result;
    } catch (error) {
      otel.failed(span, error);
      throw error;
    }
  }

  /** A clock reading for `apiTried`, or 0 when nothing measures. */
  now(): number {
    return this.otel ? performance.now() : 0;
  }

  /** One HTTP try of the status API ended: answered with `statusCode`, or failed with `error`. */
  apiTried(started: number, statusCode: number | null, error?: string): void {
    this.otel?.apiTried((performance.now() - started) / 1_000, statusCode, error);
  }
}
