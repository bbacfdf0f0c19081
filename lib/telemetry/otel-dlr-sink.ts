import type {
  Attributes,
  Counter,
  Histogram,
  MeterProvider,
  ObservableCallback,
  ObservableGauge,
  Span,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import type { RecordOutcome } from '../interfaces/dlr-store.interface.js';
import { DELIVERY_SECONDS_BOUNDS } from '../analytics/delivery-bins.js';
import { DURATION_BUCKETS_S, STATUS_API_BUCKETS_S } from './duration-buckets.js';
import type { OtelApiModule } from './otel-api.js';
import { REFUSAL_REASONS, type RefusalReason } from '../interfaces/refusal-reason.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';

/** Meter and tracer name. */
export const TELEMETRY_NAME = 'nestjs-messente-dlr';
const PENDING_TIMEOUT_MS = 2_000;

/** The `error.type` of a thrown value: its class name. */
export function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name || 'Error' : '_OTHER';
}

/**
 * The OpenTelemetry side of `DlrTelemetryService`: SPEC's instruments and spans, through
 * `@opentelemetry/api` only. Attribute sets of the hot path are built once, so recording a
 * request allocates nothing; without an SDK the API's no-op instruments make it all free.
 * Only low-cardinality values are metric attributes; message ids go on spans only, and
 * phone numbers, senders and bodies nowhere.
 */
export class OtelDlrSink {
  private readonly api: OtelApiModule;
  private readonly tracer: Tracer;
  private readonly requests: Counter;
  private readonly reports: Counter;
  private readonly handlerDuration: Histogram;
  private readonly exhausted: Counter;
  private readonly storeDuration: Histogram;
  private readonly apiDuration: Histogram;
  private readonly pending: ObservableGauge;
  private readonly deliveryDuration: Histogram;
  private readonly outcomes: Counter;
  private readonly observePending: ObservableCallback;
  private readonly accepted: Attributes = { 'messente.dlr.webhook.result': 'accepted' };
  private readonly refused = new Map<RefusalReason, Attributes>(
    REFUSAL_REASONS.map((reason) => [
      reason,
      { 'messente.dlr.webhook.result': 'refused', 'error.type': reason },
    ]),
  );
  private readonly reportAttributes = new Map<string, Attributes>();
  private readonly storeAttributes = new Map<string, Attributes>();

  constructor(
    api: OtelApiModule,
    meterProvider: MeterProvider,
    tracerProvider: TracerProvider,
    countPending: () => Promise<number>,
  ) {
    this.api = api;
    const meter = meterProvider.getMeter(TELEMETRY_NAME);
    this.tracer = tracerProvider.getTracer(TELEMETRY_NAME);
    this.requests = meter.createCounter('messente.dlr.webhook.requests', {
      unit: '{request}',
      description: 'Webhook requests, accepted (2xx) or refused by reason',
    });
    this.reports = meter.createCounter('messente.dlr.reports', {
      unit: '{report}',
      description: 'Accepted delivery reports by what the store decided',
    });
    this.handlerDuration = meter.createHistogram('messente.dlr.handler.duration', {
      unit: 's',
      description: 'Duration of each @OnDlrStatus handler try',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
    });
    this.exhausted = meter.createCounter('messente.dlr.handler.exhausted', {
      unit: '{change}',
      description: 'Changes a handler left pending after its last try',
    });
    this.storeDuration = meter.createHistogram('messente.dlr.store.duration', {
      unit: 's',
      description: 'Duration of delivery-report store calls',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
    });
    this.apiDuration = meter.createHistogram('messente.status_api.duration', {
      unit: 's',
      description: 'Duration of each HTTP try of the Messente status API',
      advice: { explicitBucketBoundaries: [...STATUS_API_BUCKETS_S] },
    });
    this.deliveryDuration = meter.createHistogram('messente.dlr.delivery.duration', {
      unit: 's',
      description: "Time from a tracked send, or a message's first report, to DELIVRD or SEEN",
      advice: { explicitBucketBoundaries: [...DELIVERY_SECONDS_BOUNDS] },
    });
    this.outcomes = meter.createCounter('messente.dlr.outcomes', {
      unit: '{omnimessage}',
      description: 'Outcomes of tracked omnimessages, by result',
    });
    this.pending = meter.createObservableGauge('messente.dlr.pending', {
      unit: '{change}',
      description: 'Changes whose handlers have not all succeeded, from the store',
    });
    // Read when a reader collects, not per request; a store that does not answer is skipped.
    this.observePending = async (result) => {
      try {
        result.observe(await withDeadline(countPending(), PENDING_TIMEOUT_MS));
      } catch {
        // Nothing observed: a gap in the series says more than a wrong number.
      }
    };
    this.pending.addCallback(this.observePending);
  }

  /** Stops observing the store (the module is closing). */
  close(): void {
    this.pending.removeCallback(this.observePending);
  }

  /** A delivery the store measured (`messente.dlr.delivery.duration`). */
  deliveryMeasured(seconds: number, channel: string, country: string): void {
    this.deliveryDuration.record(seconds, {
      'messente.dlr.channel': channel,
      'messente.dlr.country': country,
    });
  }

  /** A tracked omnimessage reached `result` (`messente.dlr.outcomes`). */
  outcomeCounted(result: string, channel: string, country: string): void {
    this.outcomes.add(1, {
      'messente.dlr.outcome.result': result,
      'messente.dlr.channel': channel,
      'messente.dlr.country': country,
    });
  }

  requestAccepted(): void {
    this.requests.add(1, this.accepted);
  }

  requestRefused(reason: RefusalReason): void {
    this.requests.add(1, this.refused.get(reason));
  }

  /** Starts `messente.dlr.record`, a child of the active (HTTP) span if any. */
  startRecord(messageId: string, status: string): Span {
    return this.tracer.startSpan(
      'messente.dlr.record',
      { attributes: { 'messente.dlr.message_id': messageId, 'messente.dlr.status': status } },
      this.api.context.active(),
    );
  }

  reportRecorded(span: Span, outcome: RecordOutcome, status: string): void {
    this.reportCounted(outcome, status);
    span.setAttribute('messente.dlr.outcome', outcome);
    span.end();
  }

  /** Counts a report by what the store decided (`messente.dlr.reports`). */
  reportCounted(outcome: RecordOutcome, status: string): void {
    const key = `${outcome} ${status}`;
    let attributes = this.reportAttributes.get(key);
    if (!attributes) {
      attributes = { 'messente.dlr.outcome': outcome, 'messente.dlr.status': status };
      this.reportAttributes.set(key, attributes);
    }
    this.reports.add(1, attributes);
  }

  /** Ends a span with status ERROR and the exception recorded. */
  failed(span: Span, error: unknown): void {
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: errorMessage(error) });
    if (error instanceof Error) span.recordException(error);
    else span.recordException(errorMessage(error));
    span.setAttribute('error.type', errorType(error));
    span.end();
  }

  storeCalled(operation: string, seconds: number, error?: unknown): void {
    if (error === undefined) {
      let attributes = this.storeAttributes.get(operation);
      if (!attributes) {
        attributes = { 'messente.dlr.store.operation': operation };
        this.storeAttributes.set(operation, attributes);
      }
      this.storeDuration.record(seconds, attributes);
    } else {
      this.storeDuration.record(seconds, {
        'messente.dlr.store.operation': operation,
        'error.type': errorType(error),
      });
    }
  }

  /** Starts `messente.dlr.handle`, a child of `parent` (the record span) when given. */
  startHandler(
    handler: string,
    messageId: string,
    status: string,
    attempt: number,
    parent: Span | undefined,
  ): Span {
    // The parent's context is made here, not at record time: duplicates never need one.
    const active = this.api.context.active();
    return this.tracer.startSpan(
      'messente.dlr.handle',
      {
        attributes: {
          'messente.dlr.handler': handler,
          'messente.dlr.message_id': messageId,
          'messente.dlr.status': status,
          'messente.dlr.attempt': attempt,
        },
      },
      parent ? this.api.trace.setSpan(active, parent) : active,
    );
  }

  handlerTried(span: Span, handler: string, status: string, seconds: number, error?: unknown): void {
    const attributes: Attributes = { 'messente.dlr.handler': handler, 'messente.dlr.status': status };
    if (error === undefined) {
      span.end();
    } else {
      attributes['error.type'] = errorType(error);
      this.failed(span, error);
    }
    this.handlerDuration.record(seconds, attributes);
  }

  handlerExhausted(handler: string): void {
    this.exhausted.add(1, { 'messente.dlr.handler': handler });
  }

  startApiQuery(omnimessageId: string): Span {
    return this.tracer.startSpan(
      'messente.status_api.query',
      { attributes: { 'messente.omnimessage_id': omnimessageId } },
      this.api.context.active(),
    );
  }

  apiTried(seconds: number, statusCode: number | null, error?: string): void {
    const attributes: Attributes = {};
    if (statusCode !== null) attributes['http.response.status_code'] = statusCode;
    if (error !== undefined) attributes['error.type'] = error;
    this.apiDuration.record(seconds, attributes);
  }
}
