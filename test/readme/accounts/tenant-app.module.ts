import { Injectable, Module } from '@nestjs/common';
import { MessenteDlrModule, type MessenteDlrAccountSecrets } from 'nestjs-messente-dlr';

/** Where the app keeps its tenants' Messente keys (a table, a vault); a map here. */
@Injectable()
export class TenantKeys {
  readonly keys = new Map<string, MessenteDlrAccountSecrets>();
  lookups = 0;

  /** A tenant's keys, or null when the id is no tenant's. */
  async messenteKeys(id: string): Promise<MessenteDlrAccountSecrets | null> {
    this.lookups++;
    return this.keys.get(id) ?? null;
  }
}

/** The tenants' module. */
@Module({ providers: [TenantKeys], exports: [TenantKeys] })
export class TenantsModule {}

// README "Several API keys": the resolver form, for thousands of keys.
@Module({
  imports: [
    TenantsModule,
    MessenteDlrModule.forRootAsync({
      imports: [TenantsModule],
      inject: [TenantKeys],
      useFactory: (tenants: TenantKeys) => ({
        // Each tenant's dlr_url is https://your.app/messente/dlr/<tenant id>.
        accounts: { resolve: (id: string) => tenants.messenteKeys(id), cacheTtlMs: 60_000 },
      }),
    }),
  ],
})
export class TenantAppModule {}
