import { Controller, Get, Header } from '@nestjs/common';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { setUpTelemetry } from './telemetry.js';

/** `GET /metrics`: the app's OpenTelemetry metrics in Prometheus's text format. */
@Controller('metrics')
export class MetricsController {
  private readonly serializer = new PrometheusSerializer();

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    const { resourceMetrics } = await setUpTelemetry().collect();
    return this.serializer.serialize(resourceMetrics);
  }
}
