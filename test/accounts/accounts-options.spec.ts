import fc from 'fast-check';
import { resolveOptions } from '../../lib/config/resolve-options.js';
import { MessenteDlrConfigError } from '../../lib/errors/messente-dlr-config.error.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import type { MessenteDlrModuleOptions } from '../../lib/interfaces/messente-dlr-options.interface.js';
import { isAccountId } from '../../lib/accounts/account-id.js';
import type { ResolvedDlrOptions } from '../../lib/interfaces/resolved-dlr-options.interface.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const resolve = (options: MessenteDlrModuleOptions): ResolvedDlrOptions =>
  resolveOptions(options, () => new InMemoryDlrStore());
const credentials = { username: 'ee-user', password: 'ee-password' };

describe('module option accounts', () => {
  it('resolves the list form: secrets in order, then the password when not listed', () => {
    const resolved = resolve({
      accounts: [
        { id: 'shop-ee', signatureSecrets: ['new', 'old'], credentials },
        { id: 'shop.lv_2', signatureSecrets: ['lv', 'lv'] },
      ],
    });
    expect(resolved.accounts?.kind).toBe('list');
    const list = resolved.accounts?.kind === 'list' ? resolved.accounts.list : [];
    expect(list.map((a) => [a.id, a.secrets.map(String), a.credentials])).toEqual([
      ['shop-ee', ['new', 'old', 'ee-password'], credentials],
      ['shop.lv_2', ['lv'], null],
    ]);
    // The top level has nothing of its own: the accounts replace it.
    expect(resolved.secrets).toEqual([]);
    expect(resolved.credentials).toBeNull();
  });

  it('leaves accounts null without the option', () => {
    expect(resolve({ signatureSecrets: ['s'] }).accounts).toBeNull();
  });

  it('resolves the resolver form with its defaults', () => {
    const resolved = resolve({ accounts: { resolve: async () => null } });
    expect(resolved.accounts).toMatchObject({
      kind: 'resolver',
      cacheTtlMs: 60_000,
      maxCached: 10_000,
      timeoutMs: 2_000,
    });
    const custom = resolve({ accounts: { resolve: async () => null, cacheTtlMs: 5, maxCached: 3 } });
    expect(custom.accounts).toMatchObject({ cacheTtlMs: 5, maxCached: 3 });
  });

  it.each([
    [{ signatureSecrets: ['s'] }, /`accounts` replaces the top-level `signatureSecrets`/],
    [{ credentials }, /`accounts` replaces the top-level `credentials`/],
    [{ signatureSecrets: ['s'], credentials }, /`signatureSecrets` and `credentials`/],
  ])('fails naming the top-level options given beside accounts (%#)', (extra, message) => {
    const options = { ...extra, accounts: [{ id: 'a', signatureSecrets: ['x'] }] };
    expect(() => resolve(options)).toThrow(MessenteDlrConfigError);
    expect(() => resolve(options)).toThrow(message);
    expect(() => resolve({ ...extra, accounts: { resolve: async () => null } })).toThrow(message);
  });

  it.each([
    [[], /`accounts` must hold at least one account/],
    [[{ id: '', signatureSecrets: ['x'] }], /`accounts\[0\]\.id` must be 1–64.*got ""/],
    [[{ id: 'a/b', signatureSecrets: ['x'] }], /`accounts\[0\]\.id`.*got "a\/b"/],
    [[{ id: 'x'.repeat(65), signatureSecrets: ['x'] }], /`accounts\[0\]\.id`/],
    [
      [
        { id: 'shop', signatureSecrets: ['x'] },
        { id: 'shop', signatureSecrets: ['y'] },
      ],
      /`accounts\[1\]\.id` repeats the id "shop"/,
    ],
    [[{ id: 'a', signatureSecrets: [] }], /`accounts\[0\]\.signatureSecrets` must hold at least one secret/],
    [[{ id: 'a', signatureSecrets: 'x' }], /`accounts\[0\]\.signatureSecrets` must be an array/],
    [
      [{ id: 'a', signatureSecrets: ['x', ''] }],
      /`accounts\[0\]\.signatureSecrets\[1\]` must be a non-empty/,
    ],
    [
      [{ id: 'a', signatureSecrets: ['x'], credentials: { username: 'u' } }],
      /`accounts\[0\]\.credentials` needs both/,
    ],
  ])('fails naming the account option (%#)', (accounts, message) => {
    expect(() => resolve({ accounts: accounts as never })).toThrow(message);
  });

  it.each([
    [{ resolve: 'no' }, /`accounts` must be a list of accounts or `\{ resolve \}`/],
    [
      { resolve: async (): Promise<null> => null, cacheTtlMs: 0 },
      /`accounts\.cacheTtlMs` must be a positive number/,
    ],
    [
      { resolve: async (): Promise<null> => null, maxCached: 1.5 },
      /`accounts\.maxCached` must be a positive integer/,
    ],
    [{ resolve: async (): Promise<null> => null, timeoutMs: -1 }, /`accounts\.timeoutMs`/],
  ])('fails naming the resolver option (%#)', (accounts, message) => {
    expect(() => resolve({ accounts: accounts as never })).toThrow(message);
  });

  it('keeps the insecure rule: accounts are secrets, so allowedIps false is allowed with them', () => {
    expect(() =>
      resolve({ allowedIps: false, accounts: [{ id: 'a', signatureSecrets: ['x'] }] }),
    ).not.toThrow();
    expect(() => resolve({ allowedIps: false, accounts: { resolve: async () => null } })).not.toThrow();
    expect(() => resolve({ allowedIps: false })).toThrow(/`allowedIps` is false and no signature secret/);
  });

  it(
    'accepts exactly the ids of the rule (fast-check)',
    replayable(() =>
      fc.assert(
        fc.property(fc.string({ maxLength: 70, unit: 'binary' }), (id) => {
          const valid = /^[A-Za-z0-9._-]{1,64}$/.test(id);
          expect(isAccountId(id)).toBe(valid);
          const attempt = () => resolve({ accounts: [{ id, signatureSecrets: ['x'] }] });
          if (valid) expect(attempt().accounts).toMatchObject({ kind: 'list' });
          else expect(attempt).toThrow(/`accounts\[0\]\.id`/);
        }),
        { seed: FUZZ_SEED, numRuns: 300 },
      ),
    ),
  );
});
