// README.md quotes the classes and modules of this file (Handlers, Streams and bus bridges,
// Querying statuses, options from @nestjs/config): each is run here on a real app.
import { Injectable, Logger, Module, type LoggerService } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { CqrsModule, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { filter } from 'rxjs';
import {
  DeliveryStatusChanged,
  DeliveryStatusEvents,
  DlrPendingService,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
} from 'nestjs-messente-dlr';
import { FakeMessenteApi, dlrPayload } from 'nestjs-messente-dlr/testing';
import { postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

const secret = 'concepts-secret';
/** What the app logged, as `context: message`, errors and all. */
const logged: string[] = [];
const record = (message: unknown, context?: unknown) => logged.push(`${String(context)}: ${String(message)}`);
const capture: LoggerService = { log: record, warn: record, error: record, debug: record, verbose: record };

@Injectable()
export class DeliveryHandlers {
  private readonly logger = new Logger(DeliveryHandlers.name);

  @OnDlrStatus('DELIVRD')
  onDelivered(event: DeliveryStatusChanged) {
    this.logger.log(`${event.messageId} delivered at ${event.timestamp?.toISOString()}`);
  }

  @OnDlrStatus(['FAILED', 'UNDELIV'])
  async onFailed(event: DeliveryStatusChanged) {
    this.logger.warn(`${event.messageId} failed: ${event.error}`); // awaited; a throw is retried
  }

  @OnDlrStatus('ACCEPTD')
  @OnDlrStatus('ACK') // stackable
  onPending(event: DeliveryStatusChanged) {
    this.logger.log(`${event.messageId} is on its way (${event.status})`);
  }

  @OnDlrStatus('*') // every change, including statuses Messente adds later
  onAny(event: DeliveryStatusChanged) {
    this.logger.log(`${event.messageId}: ${event.previousStatus} -> ${event.status}`);
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

@EventsHandler(DeliveryStatusChanged)
export class StatusEventsHandler implements IEventHandler<DeliveryStatusChanged> {
  handle(event: DeliveryStatusChanged) {
    new Logger('cqrs').log(`${event.messageId} ${event.status}`);
  }
}

@Injectable()
export class EmitterListeners {
  @OnEvent('messente.dlr.DELIVRD')
  onDelivered(event: DeliveryStatusChanged) {
    new Logger('emitter').log(`${event.messageId} delivered`);
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

@Injectable()
export class Redispatcher {
  constructor(private readonly pending: DlrPendingService) {}

  redispatch(): Promise<number> {
    return this.pending.redispatchPending(); // resolves with the number dispatched
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
      providers: [
        DeliveryHandlers,
        FinalStatusCounter,
        StatusEventsHandler,
        EmitterListeners,
        Orders,
        Redispatcher,
      ],
    })
    class ConceptsModule {}
    testApp = await startApp('express', { imports: [ConceptsModule] });
    testApp.app.useLogger(capture);
  });

  afterAll(async () => {
    await testApp.close();
    await api.stop();
  });

  it('calls each handler for its statuses, stacked and wildcard ones included', async () => {
    const report = dlrPayload({ status: 'ACCEPTD' });
    const id = String(report.message_id);
    for (const status of ['ACCEPTD', 'ACK', 'DELIVRD', 'FAILED']) {
      expect((await postDlr(testApp.baseUrl, { ...report, status, error: 'gone' }, { secret })).status).toBe(
        200,
      );
    }
    const mine = () => logged.filter((line) => line.includes(id));
    await waitFor(() => mine().length === 13);
    // Handlers and the two buses run independently of one another: compare as sets.
    expect(mine().sort()).toEqual(
      [
        `DeliveryHandlers: ${id} is on its way (ACCEPTD)`,
        `DeliveryHandlers: ${id}: null -> ACCEPTD`,
        `cqrs: ${id} ACCEPTD`,
        `DeliveryHandlers: ${id} is on its way (ACK)`,
        `DeliveryHandlers: ${id}: ACCEPTD -> ACK`,
        `cqrs: ${id} ACK`,
        `DeliveryHandlers: ${id} delivered at ${new Date(`${report.timestamp}Z`).toISOString()}`,
        `DeliveryHandlers: ${id}: ACK -> DELIVRD`,
        `cqrs: ${id} DELIVRD`,
        `emitter: ${id} delivered`,
        `DeliveryHandlers: ${id} failed: gone`,
        `DeliveryHandlers: ${id}: DELIVRD -> FAILED`,
        `cqrs: ${id} FAILED`,
      ].sort(),
    );
    expect(testApp.app.get(FinalStatusCounter).counts.get('DELIVRD')).toBe(1);
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

  it('redispatches on demand, with nothing pending', async () => {
    await expect(testApp.app.get(Redispatcher).redispatch()).resolves.toBe(0);
  });

  it('reconciles unsettled messages with the API on demand', async () => {
    const statuses = testApp.app.get(DeliveryStatusService);
    const result = await statuses.reconcile({ olderThanMs: 15 * 60_000, limit: 100, concurrency: 2 });
    // { queried, changes, failed }, also logged
    expect(result).toEqual({ queried: expect.any(Number), changes: expect.any(Number), failed: 0 });
  });
});
