// This file is quoted in README.md ("Testing your handlers"): keep the two in step.
import { Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import {
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
} from 'nestjs-messente-dlr';
import { FakeMessenteApi, dlrPayload, signDlr } from 'nestjs-messente-dlr/testing';

@Injectable()
class Deliveries {
  readonly delivered: string[] = [];

  @OnDlrStatus('DELIVRD')
  onDelivered(event: DeliveryStatusChanged) {
    this.delivered.push(event.messageId);
  }
}

describe('my delivery handlers', () => {
  const api = new FakeMessenteApi({ username: 'user', password: 'secret' });
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const apiUrl = await api.start();
    @Module({
      imports: [
        MessenteDlrModule.forRoot({
          credentials: { username: 'user', password: 'secret' }, // also the signature secret
          allowedIps: ['127.0.0.1'],
          apiUrl,
        }),
      ],
      providers: [Deliveries],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app.close();
    await api.stop();
  });

  it('handles a signed callback', async () => {
    const body = JSON.stringify(dlrPayload({ status: 'DELIVRD' }));
    const response = await fetch(`${baseUrl}/messente/dlr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, 'secret') },
      body,
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50)); // handlers run after the 200
    expect(app.get(Deliveries).delivered).toEqual([JSON.parse(body).message_id]);
  });

  it('handles a status learnt from the API when the callback never came', async () => {
    const omnimessageId = crypto.randomUUID();
    const messageId = crypto.randomUUID();
    api.setReport(omnimessageId, {
      omnimessage_id: omnimessageId,
      to: '+3725555555',
      statuses: [{ message_id: messageId, channel: 'sms', status: 'DELIVRD', err: 0, error: null }],
    });
    const current = await app.get(DeliveryStatusService).current(omnimessageId);
    expect(current.map((event) => event.status)).toEqual(['DELIVRD']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.get(Deliveries).delivered).toContain(messageId);
    expect(api.requests).toHaveLength(1);
  });

  it('surfaces API failures', async () => {
    api.failNext(503, 4); // more than the 3 retries
    await expect(app.get(DeliveryStatusService).query(crypto.randomUUID())).rejects.toMatchObject({
      status: 503,
    });
  }, 20_000);
});
