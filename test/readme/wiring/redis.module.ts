import { Module } from '@nestjs/common';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { RedisDlrStore } from 'nestjs-messente-dlr/redis';

const secret = process.env.MESSENTE_API_PASSWORD!;

@Module({
  imports: [
    MessenteDlrModule.forRoot({
      signatureSecrets: [secret],
      store: new RedisDlrStore({ url: process.env.REDIS_URL! }), // or { client: yourIoredis }
      allowedIps: ['127.0.0.1'],
    }),
  ],
})
export class RedisAppModule {}
