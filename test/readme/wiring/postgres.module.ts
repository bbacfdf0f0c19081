import { Module } from '@nestjs/common';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { PostgresDlrStore } from 'nestjs-messente-dlr/postgres';

const secret = process.env.MESSENTE_API_PASSWORD!;

@Module({
  imports: [
    MessenteDlrModule.forRoot({
      signatureSecrets: [secret],
      store: new PostgresDlrStore({ connectionString: process.env.DATABASE_URL! }), // or { pool: yourPgPool }
      allowedIps: ['127.0.0.1'],
    }),
  ],
})
export class PostgresAppModule {}
