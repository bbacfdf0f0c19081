import { AccountLookupError, AccountResolverCache } from '../../lib/accounts/account-resolver-cache.js';
import type { MessenteDlrAccountSecrets } from '../../lib/interfaces/messente-dlr-account.interface.js';

function cacheOf(
  resolve: (id: string) => Promise<MessenteDlrAccountSecrets | null>,
  maxCached = 10_000,
  cacheTtlMs = 60_000,
) {
  return new AccountResolverCache({
    kind: 'resolver',
    resolve,
    cacheTtlMs,
    maxCached,
    timeoutMs: 200,
  });
}

describe('AccountResolverCache', () => {
  it('keeps at most maxCached accounts: memory stays bounded, an evicted id is asked again', async () => {
    const calls: string[] = [];
    const cache = cacheOf(async (id) => {
      calls.push(id);
      return { signatureSecrets: [`secret-${id}`] };
    }, 100);
    for (let i = 0; i < 10_000; i++) await cache.lookup(`t-${i}`);
    expect(cache.size).toBe(100);
    expect(calls).toHaveLength(10_000);
    await cache.lookup('t-9999');
    expect(calls).toHaveLength(10_000);
    await cache.lookup('t-0');
    expect(calls).toHaveLength(10_001);
  });

  it('asks again once cacheTtlMs has passed', async () => {
    let calls = 0;
    const cache = cacheOf(
      async () => {
        calls++;
        return null;
      },
      10,
      30,
    );
    await cache.lookup('t-1');
    await cache.lookup('t-1');
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await cache.lookup('t-1');
    expect(calls).toBe(2);
  });

  it('shares one call among concurrent lookups, and caches null answers', async () => {
    let calls = 0;
    const cache = cacheOf(async (id) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return id === 'known'
        ? { signatureSecrets: ['s'], credentials: { username: 'u', password: 'p' } }
        : null;
    });
    const found = await Promise.all(Array.from({ length: 20 }, () => cache.lookup('known')));
    expect(calls).toBe(1);
    expect(found.every((account) => account === found[0])).toBe(true);
    expect(found[0]).toMatchObject({ id: 'known', credentials: { username: 'u', password: 'p' } });
    expect(found[0]?.secrets.map(String)).toEqual(['s', 'p']);
    expect(await cache.lookup('unknown')).toBeNull();
    expect(await cache.lookup('unknown')).toBeNull();
    expect(calls).toBe(2);
  });

  it.each([
    [
      'throws synchronously',
      () => {
        throw new Error('sync boom');
      },
      /failed: sync boom/,
    ],
    ['rejects', () => Promise.reject(new Error('db down')), /failed: db down/],
    ['hangs', () => new Promise<never>(() => undefined), /no answer within 200 ms/],
    ['answers no secret', async () => ({ signatureSecrets: [] }), /answer\.signatureSecrets must hold/],
    ['answers a string', async () => 'secret' as never, /answered neither/],
  ])(
    'rejects with AccountLookupError when the resolver %s, and asks again next time',
    async (_, resolve, message) => {
      let calls = 0;
      const cache = cacheOf((() => {
        calls++;
        return resolve();
      }) as never);
      await expect(cache.lookup('t-1')).rejects.toThrow(AccountLookupError);
      await expect(cache.lookup('t-1')).rejects.toThrow(message);
      expect(calls).toBe(2);
    },
  );
});
