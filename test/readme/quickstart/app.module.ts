import { Module } from '@nestjs/common';
import { MESSENTE_DLR_IPS, MessenteDlrModule } from 'nestjs-messente-dlr';
import { DeliveryHandlers } from './delivery.handlers.js';

const local = process.env.NODE_ENV !== 'production';

@Module({
  imports: [
    MessenteDlrModule.forRoot({
      signatureSecrets: [process.env.MESSENTE_API_PASSWORD!], // the API key's password
      // Messente's IPs; while testing on your machine, also loopback (else every request is 403)
      allowedIps: local ? [...MESSENTE_DLR_IPS, '127.0.0.1', '::1'] : MESSENTE_DLR_IPS,
    }),
  ],
  providers: [DeliveryHandlers],
})
export class AppModule {}
