import type { ExecutionContext } from '@nestjs/common';
import { DlrSignatureGuard } from '../../lib/webhook/dlr-signature.guard.js';
import { reportAccountOf, secretPositionOf, type DlrHttpRequest } from '../../lib/webhook/http-request.js';
import { DlrAccountsService } from '../../lib/accounts/dlr-accounts.service.js';
import { DeliveryReportStats } from '../../lib/telemetry/delivery-report-stats.service.js';
import { resolveOptions } from '../../lib/config/resolve-options.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import type { MessenteDlrModuleOptions } from '../../lib/interfaces/messente-dlr-options.interface.js';
import { signDlr } from '../../lib/testing/index.js';

function guardFor(options: MessenteDlrModuleOptions) {
  const resolved = resolveOptions(options, () => new InMemoryDlrStore());
  const stats = new DeliveryReportStats();
  return { guard: new DlrSignatureGuard(resolved, new DlrAccountsService(resolved), stats), stats };
}

function requestSignedWith(secret: string, params?: Record<string, string>): DlrHttpRequest {
  const rawBody = Buffer.from('{"message_id":"m","status":"ACK"}');
  return { headers: { 'x-messente-signature': signDlr(rawBody, secret) }, rawBody, params };
}

const contextOf = (request: DlrHttpRequest) =>
  ({ switchToHttp: () => ({ getRequest: () => request }) }) as unknown as ExecutionContext;

describe('DlrSignatureGuard with accounts', () => {
  it('notes on the request the account and the position of the secret that matched', async () => {
    const { guard, stats } = guardFor({
      accounts: [
        { id: 'a', signatureSecrets: ['a-new', 'shared'] },
        { id: 'b', signatureSecrets: ['b-1', 'b-2', 'b-3'] },
      ],
    });
    const request = requestSignedWith('b-3');
    expect(await guard.canActivate(contextOf(request))).toBe(true);
    expect([reportAccountOf(request), secretPositionOf(request)]).toEqual(['b', 2]);
    // A secret two accounts share belongs to the first in the list.
    const shared = requestSignedWith('shared');
    await guard.canActivate(contextOf(shared));
    expect([reportAccountOf(shared), secretPositionOf(shared)]).toEqual(['a', 1]);
    expect(stats.snapshot().secretsMatched).toEqual({ a: [0, 1], b: [0, 0, 1] });
    expect(() => guard.canActivate(contextOf(requestSignedWith('nobody')))).toThrow(
      'Invalid X-Messente-Signature',
    );
  });

  it('marks nothing on the request without accounts, and counts under "default"', () => {
    const { guard, stats } = guardFor({ signatureSecrets: ['one', 'two'] });
    const request = requestSignedWith('two');
    expect(guard.canActivate(contextOf(request))).toBe(true);
    expect(Object.getOwnPropertySymbols(request)).toEqual([]);
    expect([reportAccountOf(request), secretPositionOf(request)]).toEqual([null, null]);
    expect(stats.snapshot().secretsMatched).toEqual({ default: [0, 1] });
  });
});
