import { metrics, trace } from '@opentelemetry/api';
import { MessenteDlrModule } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { postDlr, startApp } from '../support/app.js';
import { createTestOtel, sums } from '../support/otel.js';

describe('an SDK registered globally before the app is created', () => {
  it('sees the metrics and spans without any option', async () => {
    const otel = createTestOtel();
    expect(metrics.setGlobalMeterProvider(otel.meterProvider)).toBe(true);
    expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true);
    const running = await startApp('fastify', {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['global'], allowedIps: false })],
    });
    try {
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: 'global' })).status).toBe(200);
      expect((await postDlr(running.baseUrl, dlrPayload())).status).toBe(401);
      expect(sums(await otel.collect(), 'messente.dlr.webhook.requests')).toEqual({
        'messente.dlr.webhook.result=accepted': 1,
        'error.type=signature_missing,messente.dlr.webhook.result=refused': 1,
      });
      expect(otel.spans.getFinishedSpans().map((span) => span.name)).toEqual(['messente.dlr.record']);
    } finally {
      await running.close();
      metrics.disable();
      trace.disable();
      await otel.shutdown();
    }
  });
});
