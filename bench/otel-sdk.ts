import { metrics, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Exports nothing: the bench measures recording spans, not shipping them. */
const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

/**
 * An OpenTelemetry SDK as an app would set it up: metrics read by a Prometheus exporter (no
 * server, never scraped during the run) and every span sampled and batched to an exporter
 * that discards them.
 */
export function createOtelSdk(): { meterProvider: MeterProvider; tracerProvider: BasicTracerProvider } {
  return {
    meterProvider: new MeterProvider({ readers: [new PrometheusExporter({ preventServerStart: true })] }),
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] }),
  };
}

/** Registers `createOtelSdk()` globally, as an app does before `NestFactory.create`. */
export function registerOtelSdk(): void {
  const { meterProvider, tracerProvider } = createOtelSdk();
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
}
