import { DeliveryReportStats, DeliveryStatusService, MESSENTE_DLR_IPS } from 'nestjs-messente-dlr';
import { buildSendAnswer, dlrPayload } from 'nestjs-messente-dlr/testing';
import type { ModuleMetadata } from '@nestjs/common';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

// The list form reads its passwords from the environment when its module is loaded.
Object.assign(process.env, {
  EE_API_USERNAME: 'ee-user',
  EE_API_PASSWORD: 'ee-new-password',
  EE_OLD_API_PASSWORD: 'ee-old-password',
  LV_API_PASSWORD: 'lv-password',
});
const { ShopAppModule } = await import('./accounts/shop-app.module.js');
const { TenantAppModule, TenantKeys } = await import('./accounts/tenant-app.module.js');

// Messente's own address, as the app behind a trusted proxy sees it.
const FROM_MESSENTE = { 'x-forwarded-for': MESSENTE_DLR_IPS[0]! };

// README "Several API keys": both forms and the rotation procedure, run.
describe.each(ADAPTERS)('README Several API keys (%s)', (adapter) => {
  let app: TestApp;
  afterEach(() => app?.close());
  const start = async (module: ModuleMetadata['imports']) => {
    app = await startApp(adapter, { imports: module }, { trustProxy: true });
  };
  const post = (secret: string, path?: string) =>
    postDlr(app.baseUrl, dlrPayload(), { secret, headers: FROM_MESSENTE, path });

  it('list form: a rotation shows in secretsMatched until the old password stops', async () => {
    await start([ShopAppModule]);
    for (const secret of ['ee-old-password', 'ee-new-password', 'ee-new-password', 'lv-password']) {
      expect((await post(secret)).status).toBe(200);
    }
    expect((await post('not-a-password')).status).toBe(401);
    const { secretsMatched } = app.app.get(DeliveryReportStats).snapshot();
    // Position 0 is the new password, 1 the old one: remove the old one once 1 stops growing.
    expect(secretsMatched).toEqual({ 'shop-ee': [2, 1], 'shop-lv': [1] });

    const statuses = app.app.get(DeliveryStatusService);
    const sent = buildSendAnswer();
    const outcome = await statuses.track(sent, { ref: 'order-123', account: 'shop-lv' });
    expect(outcome.account).toBe('shop-lv');
    await expect(statuses.track(buildSendAnswer(), { account: 'shop-fi' })).rejects.toThrow(/shop-fi/);
  });

  it('resolver form: the path names the tenant, whose own password must sign', async () => {
    await start([TenantAppModule]);
    const tenants = app.app.get(TenantKeys, { strict: false });
    tenants.keys.set('acme', { signatureSecrets: ['acme-password'] });
    tenants.keys.set('globex', { signatureSecrets: ['globex-password'] });
    expect((await post('acme-password', 'messente/dlr/acme')).status).toBe(200);
    expect((await post('globex-password', 'messente/dlr/acme')).status).toBe(401);
    expect((await post('acme-password', 'messente/dlr/initech')).status).toBe(401);
    // One lookup per tenant per cacheTtlMs.
    expect(tenants.lookups).toBe(2);
    await waitFor(() => app.app.get(DeliveryReportStats).snapshot().requests.accepted === 1);
    expect(app.app.get(DeliveryReportStats).snapshot().secretsMatched).toEqual({ acme: [1] });
  });
});
