import { Module } from '@nestjs/common';
import { MessenteDlrModule } from 'nestjs-messente-dlr';

const env = process.env;

// README "Several API keys": the list form, one entry per API key the app sends with.
@Module({
  imports: [
    MessenteDlrModule.forRoot({
      accounts: [
        {
          id: 'shop-ee',
          // During a rotation: the new password first, the old one until it stops matching.
          signatureSecrets: [env.EE_API_PASSWORD!, env.EE_OLD_API_PASSWORD!],
          credentials: { username: env.EE_API_USERNAME!, password: env.EE_API_PASSWORD! },
        },
        { id: 'shop-lv', signatureSecrets: [env.LV_API_PASSWORD!] },
      ],
    }),
  ],
})
export class ShopAppModule {}
