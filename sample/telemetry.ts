import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

let exporter: PrometheusExporter | undefined;

/**
 * Registers the OpenTelemetry metrics SDK with a Prometheus exporter, as an app does before
 * `NestFactory.create`: the module then records into it without any option. The exporter
 * starts no server of its own; `GET /metrics` (MetricsController) serves it. Idempotent.
 */
export function setUpTelemetry(): PrometheusExporter {
  if (!exporter) {
    exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  }
  return exporter;
}
