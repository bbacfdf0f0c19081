// README.md quotes the classes and modules of this file (Handlers, Streams and bus bridges,
// Querying statuses, options from @nestjs/config): each is run here on a real app.
import { Injectable, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { CqrsModule, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { filter } from 'rxjs';
import {
  DeliveryStatusChanged,
  DeliveryStatusEvents,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
} from 'nestjs-messente-dlr';
import { FakeMessenteApi, dlrPayload } from 'nestjs-messente-dlr/testing';
import { postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

const secret = 'concepts-secret';
const seen: string[] = [];

@Injectable()
export class DeliveryHandlers {
  private readonly logger = new Logger(DeliveryHandlers.name);

  @OnDlrStatus('DELIVRD')
  onDelivered(event: DeliveryStatusChanged) {
    this.logger.log(`${event.messageId} delivered at ${event.timestamp?.toISOString()}`);
    seen.push(`delivered ${event.messageId}`);
  }

  @OnDlrStatus(['FAILED', 'UNDELIV'])
  async onFailed(event: DeliveryStatusChanged) {
    seen.push(`failed ${event.messageId}`); // awaited; a throw is retried
  }

  @OnDlrStatus('ACCEPTD')
  @OnDlrStatus('ACK') // stackable
  onPending(event: DeliveryStatusChanged) {
    seen.push(`pending ${event.status}`);
  }

  @OnDlrStatus('*') // every change, including statuses Messente adds later
  onAny(event: DeliveryStatusChanged) {
    seen.push(`any ${event.status}`);
  }
}

@Injectable()
export class FinalStatusCounter {
  readonly counts = new Map<string, number>();

  constructor(events: DeliveryStatusEvents) {
    events.changes$.pipe(filter((e) => e.isFinal)).subscribe((e) => {
      this.counts.set(e.status, (this.counts.get(e.status) ?? 0) + 1);
    });
  }
}

const busEvents: string[] = [];

@EventsHandler(DeliveryStatusChanged)
export class DeliveredHandler implements IEventHandler<DeliveryStatusChanged> {
  handle(event: DeliveryStatusChanged) {
    busEvents.push(`cqrs ${event.status}`);
  }
}

@Injectable()
export class EmitterListeners {
  @OnEvent('messente.dlr.DELIVRD') onDelivered(event: DeliveryStatusChanged) {
    busEvents.push(`emitter DELIVRD ${event.messageId}`);
  }

  @OnEvent('messente.dlr.*') onAny(event: DeliveryStatusChanged) {
    busEvents.push(`emitter * ${event.status}`);
  }
}

@Injectable()
export class Orders {
  constructor(private readonly statuses: DeliveryStatusService) {}

  async check(omnimessageId: string, messageId: string) {
    await this.statuses.latest(messageId); // store: latest change or null; no API call
    await this.statuses.forOmnimessage(omnimessageId); // store: latest change of each message
    await this.statuses.current(omnimessageId); // store if all final, else API, recorded
    const report = await this.statuses.query(omnimessageId); // the API itself: DeliveryReport
    return report.statuses.map((s) => `${s.channel}: ${s.status}`);
  }
}

describe('README concepts', () => {
  const api = new FakeMessenteApi({ username: 'user', password: secret });
  let testApp: TestApp;

  beforeAll(async () => {
    const apiUrl = await api.start();
    process.env['MESSENTE_API_USERNAME'] = 'user';
    process.env['MESSENTE_API_PASSWORD'] = secret;
    process.env['MESSENTE_API_URL'] = apiUrl;
    const configured = MessenteDlrModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        credentials: {
          username: config.getOrThrow('MESSENTE_API_USERNAME'),
          password: config.getOrThrow('MESSENTE_API_PASSWORD'), // also a signature secret
        },
        apiUrl: config.get('MESSENTE_API_URL'), // default https://api.messente.com/v1
        allowedIps: ['127.0.0.1'],
        cqrs: true, // publish on @nestjs/cqrs's EventBus
        eventEmitter: true, // emit messente.dlr.<STATUS> on EventEmitter2
      }),
      isGlobal: true, // inject DeliveryStatusService anywhere
    });
    @Module({
      imports: [CqrsModule.forRoot(), EventEmitterModule.forRoot({ wildcard: true }), configured],
      providers: [DeliveryHandlers, FinalStatusCounter, DeliveredHandler, EmitterListeners, Orders],
    })
    class ConceptsModule {}
    testApp = await startApp('express', { imports: [ConceptsModule] });
  });

  afterAll(async () => {
    await testApp.close();
    await api.stop();
  });

  it('calls each handler for its statuses, stacked and wildcard ones included', async () => {
    const report = dlrPayload({ status: 'ACCEPTD' });
    expect((await postDlr(testApp.baseUrl, report, { secret })).status).toBe(200);
    expect((await postDlr(testApp.baseUrl, { ...report, status: 'ACK' }, { secret })).status).toBe(200);
    expect((await postDlr(testApp.baseUrl, { ...report, status: 'DELIVRD' }, { secret })).status).toBe(200);
    await waitFor(() => seen.length === 6);
    expect(seen).toEqual([
      'pending ACCEPTD',
      'any ACCEPTD',
      'pending ACK',
      'any ACK',
      `delivered ${report.message_id}`,
      'any DELIVRD',
    ]);
    expect(testApp.app.get(FinalStatusCounter).counts.get('DELIVRD')).toBe(1);
    await waitFor(() => busEvents.length === 7);
    expect(busEvents.filter((entry) => entry.startsWith('cqrs'))).toEqual([
      'cqrs ACCEPTD',
      'cqrs ACK',
      'cqrs DELIVRD',
    ]);
    expect(busEvents).toContain(`emitter DELIVRD ${report.message_id}`);
  });

  it('answers status queries from the store and the API', async () => {
    const omnimessageId = crypto.randomUUID();
    const messageId = crypto.randomUUID();
    api.setReport(omnimessageId, {
      omnimessage_id: omnimessageId,
      to: '+3725555555',
      statuses: [{ message_id: messageId, channel: 'sms', status: 'DELIVRD', err: 0, error: null }],
    });
    await expect(testApp.app.get(Orders).check(omnimessageId, messageId)).resolves.toEqual(['sms: DELIVRD']);
    const latest = await testApp.app.get(DeliveryStatusService).latest(messageId);
    expect(latest?.status).toBe('DELIVRD');
  });
});
