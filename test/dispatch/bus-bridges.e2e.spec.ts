import { Injectable } from '@nestjs/common';
import { CqrsModule, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { DeliveryStatusChanged, MessenteDlrModule } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor } from '../support/app.js';

const SECRET = 'bridge-secret';
const cqrsEvents: DeliveryStatusChanged[] = [];
const emitterEvents: Array<[string, DeliveryStatusChanged]> = [];

@EventsHandler(DeliveryStatusChanged)
class CqrsDeliveryHandler implements IEventHandler<DeliveryStatusChanged> {
  handle(event: DeliveryStatusChanged) {
    cqrsEvents.push(event);
  }
}

@Injectable()
class EmitterListener {
  @OnEvent('messente.dlr.DELIVRD') onDelivered(event: DeliveryStatusChanged) {
    emitterEvents.push(['DELIVRD', event]);
  }
  @OnEvent('messente.dlr.*') onAny(event: DeliveryStatusChanged) {
    emitterEvents.push(['*', event]);
  }
}

describe('bus bridges', () => {
  beforeEach(() => {
    cqrsEvents.length = 0;
    emitterEvents.length = 0;
  });

  it.each([true, false])(
    'publish on the CQRS EventBus and EventEmitter2 only when enabled (%s)',
    async (enabled) => {
      const running = await startApp('fastify', {
        imports: [
          CqrsModule.forRoot(),
          EventEmitterModule.forRoot({ wildcard: true }),
          MessenteDlrModule.forRoot({
            signatureSecrets: [SECRET],
            allowedIps: ['127.0.0.1'],
            cqrs: enabled,
            eventEmitter: enabled,
          }),
        ],
        providers: [CqrsDeliveryHandler, EmitterListener],
      });
      try {
        const payload = dlrPayload({ status: 'DELIVRD' });
        expect((await postDlr(running.baseUrl, payload, { secret: SECRET })).status).toBe(200);
        expect(
          (await postDlr(running.baseUrl, dlrPayload({ status: 'FAILED' }), { secret: SECRET })).status,
        ).toBe(200);
        if (enabled) {
          await waitFor(() => cqrsEvents.length === 2 && emitterEvents.length === 3);
          expect(cqrsEvents[0]).toBeInstanceOf(DeliveryStatusChanged);
          expect(cqrsEvents.map((event) => event.status).sort()).toEqual(['DELIVRD', 'FAILED']);
          expect(emitterEvents.map(([name, event]) => `${name}:${event.status}`).sort()).toEqual([
            '*:DELIVRD',
            '*:FAILED',
            'DELIVRD:DELIVRD',
          ]);
          expect(emitterEvents.find(([name]) => name === 'DELIVRD')![1].messageId).toBe(
            payload['message_id'],
          );
        } else {
          await delay(100);
          expect(cqrsEvents).toEqual([]);
          expect(emitterEvents).toEqual([]);
        }
      } finally {
        await running.close();
      }
    },
  );

  it('fails the bootstrap with a clear message when the bus module is not imported', async () => {
    await expect(
      startApp('express', {
        imports: [
          MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'], cqrs: true }),
        ],
      }),
    ).rejects.toThrow('option `cqrs` is on, but CqrsModule.forRoot() is not imported');
  });
});
