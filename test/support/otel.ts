import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A metric reader that collects on demand, cumulative. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A real OpenTelemetry SDK for a test: metrics read on demand, spans kept in memory. */
export interface TestOtel {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  readonly spans: InMemorySpanExporter;
  /** Every metric of the package's meter now. */
  collect(): Promise<MetricData[]>;
  shutdown(): Promise<void>;
}

/** Builds a `TestOtel` (not registered globally: pass its providers to the module). */
export function createTestOtel(): TestOtel {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  return {
    meterProvider,
    tracerProvider,
    spans,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return resourceMetrics.scopeMetrics
        .filter((scope) => scope.scope.name === 'nestjs-messente-dlr')
        .flatMap((scope) => scope.metrics);
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The data points of one metric, or [] when it has none. */
export function pointsOf(metrics: MetricData[], name: string): DataPoint<unknown>[] {
  return metrics
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
}

/** A stable key of an attribute set: `k=v,k=v` sorted. */
export function keyOf(attributes: Attributes): string {
  return Object.entries(attributes)
    .map(([key, value]) => `${key}=${String(value)}`)
    .sort()
    .join(',');
}

/** Counter (or gauge) values by attribute set, e.g. `{ 'messente.dlr.webhook.result=accepted': 4 }`. */
export function sums(metrics: MetricData[], name: string): Record<string, number> {
  return Object.fromEntries(
    pointsOf(metrics, name).map((point) => [keyOf(point.attributes), point.value as number]),
  );
}

/** Histogram record counts by attribute set. */
export function counts(metrics: MetricData[], name: string): Record<string, number> {
  return Object.fromEntries(
    pointsOf(metrics, name).map((point) => [keyOf(point.attributes), (point.value as Histogram).count]),
  );
}

/** Every attribute value of spans (theirs and their events') and metric points, as strings. */
export function allAttributeValues(metrics: MetricData[], spans: ReadableSpan[]): string[] {
  const sets: Attributes[] = [
    ...metrics.flatMap((metric) => metric.dataPoints.map((point) => point.attributes)),
    ...spans.flatMap((span) => [span.attributes, ...span.events.map((event) => event.attributes ?? {})]),
  ];
  return sets.flatMap((attributes) => Object.values(attributes).map((value) => String(value)));
}
