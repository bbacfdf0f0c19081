import { InMemoryDlrStore } from '../../lib/index.js';
import type { DeliveryStats } from '../../lib/interfaces/delivery-stats.interface.js';
import { ADAPTERS, delay, postDlr, type AdapterName } from '../support/app.js';
import { ADMIN, AdminGuard, FlakyHandler, startBoardApp } from '../support/board-app.js';
import { postgresSubject } from '../support/store-subjects.js';
import type { DlrStore } from '../../lib/interfaces/dlr-store.interface.js';
import { STREAM, expectedDelivery, streamBodies, type ExpectedGroup } from './board-delivery.stream.js';

const SECRET = 'board-delivery-secret';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A store that keeps no delivery analytics: `InMemoryDlrStore` without the two methods. */
function storeWithoutAnalytics(): InMemoryDlrStore {
  const store = new InMemoryDlrStore();
  for (const method of ['tallyDelivery', 'deliveryBuckets']) {
    Object.defineProperty(store, method, { value: undefined });
  }
  return store;
}

/** A store whose analytics cannot be read, as a store that is down. */
class DownForAnalytics extends InMemoryDlrStore {
  override deliveryBuckets(): never {
    throw new Error('connection refused');
  }
}

const byKey = (groups: readonly ExpectedGroup[]) =>
  [...groups].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const volume = (group: ExpectedGroup) => group.delivered + group.failed + group.pending;

/** What a test drives: GET on the board's API, and a signed post to the webhook. */
interface Board {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(body: Record<string, unknown>): Promise<void>;
}

/**
 * Posts the stream to the app's webhook and checks that `GET api/delivery` answers the numbers
 * computed from it, for 1h and for 24h.
 */
async function expectTheStream({ get, post }: Board): Promise<void> {
  const startMs = Date.now() - 40 * MINUTE;
  for (const body of streamBodies(startMs)) await post(body);
  const expected = expectedDelivery();
  const messages = STREAM.length;
  expect(expected.total.delivered + expected.total.failed + expected.total.pending).toBe(messages);

  // The tally lands a turn of the event loop after each report: poll until it is all there.
  const read = async (window: string): Promise<DeliveryStats> => {
    const response = await get(`delivery?window=${window}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return (await response.json()) as DeliveryStats;
  };
  const deadline = Date.now() + 5_000;
  let answer = await read('1h');
  while (
    answer.total.delivered !== expected.total.delivered ||
    answer.total.failed !== expected.total.failed ||
    answer.total.pending !== expected.total.pending
  ) {
    if (Date.now() > deadline) break;
    await delay(20);
    answer = await read('1h');
  }

  for (const window of ['1h', '24h'] as const) {
    const asked = Date.now();
    const stats = window === '1h' ? answer : await read(window);
    const answered = Date.now();
    expect(stats.window).toBe(window);
    expect(stats.total).toEqual(expected.total);
    expect(byKey(stats.byChannel)).toEqual(expected.byChannel);
    expect(byKey(stats.byCountry)).toEqual(expected.byCountry);
    expect(stats.failuresByReason).toEqual(expected.failuresByReason);
    // Busiest first.
    for (const groups of [stats.byChannel, stats.byCountry]) {
      const volumes = groups.map(volume);
      expect(volumes).toEqual([...volumes].sort((a, b) => b - a));
    }
    // Whole buckets: 60 minutes or 24 hours, the last one holding now.
    const [size, count] = window === '1h' ? [MINUTE, 60] : [HOUR, 24];
    expect(stats.to - stats.from).toBe(size * count);
    expect(stats.from % size).toBe(0);
    expect(stats.to).toBeGreaterThan(window === '1h' ? asked - 60_000 : asked);
    expect(stats.to - size).toBeLessThanOrEqual(answered);
  }

  // The numbers the stream was built to give, written out once, so that a slip in the
  // computation above cannot hide one in the board.
  expect(expected.total).toEqual({
    key: 'all',
    delivered: 12,
    failed: 6,
    pending: 3,
    rate: 12 / 18,
    p50Seconds: 10,
    p90Seconds: 300,
  });
  expect(expected.byChannel.find((group) => group.key === 'sms')).toEqual({
    key: 'sms',
    delivered: 6,
    failed: 4,
    pending: 1,
    rate: 6 / 10,
    p50Seconds: 5,
    p90Seconds: 60,
  });
}

/** Starts a board app on `adapter` with `store`; `close()` ends it. */
async function startBoard(
  adapter: AdapterName,
  store?: DlrStore,
): Promise<Board & { close(): Promise<void> }> {
  const running = await startBoardApp(adapter, {
    secret: SECRET,
    board: { guards: [AdminGuard] },
    dlr: store ? { store } : {},
  });
  const api = `${running.baseUrl}/messente/board/api`;
  return {
    get: (path, headers = ADMIN) => fetch(`${api}/${path}`, { headers }),
    post: async (body) => expect((await postDlr(running.baseUrl, body, { secret: SECRET })).status).toBe(200),
    close: () => running.close(),
  };
}

describe.each(ADAPTERS)('board delivery analytics (GET api/delivery) on %s', (adapter) => {
  let running: { close(): Promise<void> } | undefined;
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  async function start(store?: DlrStore): Promise<Board> {
    const board = await startBoard(adapter, store);
    running = board;
    return board;
  }

  it('answers the delivery rate, failures by reason and time to deliver of the reports posted, by channel and by country, for 1h and 24h', async () => {
    await expectTheStream(await start());
  });

  it('answers a window that is missing, repeated or not 1h or 24h with 400 and a clear message', async () => {
    const { get } = await start();
    for (const path of [
      'delivery',
      'delivery?window=',
      'delivery?window=2h',
      'delivery?window=1H',
      'delivery?window=1h&window=24h',
    ]) {
      const answer = await get(path);
      expect([path, answer.status]).toEqual([path, 400]);
      expect(((await answer.json()) as { message: string }).message).toBe(
        'window is required and must be 1h or 24h',
      );
    }
  });

  it("is behind the user's guards like every board route", async () => {
    const { get } = await start();
    expect((await get('delivery?window=1h', {})).status).toBe(401);
    expect((await get('delivery?window=1h', { authorization: 'Bearer guest' })).status).toBe(403);
  });

  it('answers zeros, not an error, before any report', async () => {
    const { get } = await start();
    const answer = await get('delivery?window=24h');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      window: '24h',
      total: { delivered: 0, failed: 0, pending: 0, rate: null, p50Seconds: null, p90Seconds: null },
      byChannel: [],
      byCountry: [],
      failuresByReason: [],
    });
  });

  it('answers 501 naming the store when it keeps no delivery analytics', async () => {
    const { get, post } = await start(storeWithoutAnalytics());
    await post(streamBodies(Date.now())[0]!);
    const answer = await get('delivery?window=1h');
    expect(answer.status).toBe(501);
    expect(((await answer.json()) as { message: string }).message).toMatch(
      /^InMemoryDlrStore keeps no delivery analytics/,
    );
  });

  it('answers 503 with the reason, never a 500, when the store cannot be read', async () => {
    const { get } = await start(new DownForAnalytics());
    const answer = await get('delivery?window=1h');
    expect(answer.status).toBe(503);
    expect(((await answer.json()) as { message: string }).message).toBe(
      'The delivery-report store is unavailable: connection refused',
    );
  });
});

const postgres = postgresSubject('board_delivery');
postgres.describe('board delivery analytics (GET api/delivery) on PostgresDlrStore', () => {
  const stores = postgres.setup();
  let running: { close(): Promise<void> } | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it.each(ADAPTERS)('on %s answers the numbers of the posted stream, for 1h and 24h', async (adapter) => {
    const board = await startBoard(adapter, stores.create());
    running = board;
    await expectTheStream(board);
  });
});
