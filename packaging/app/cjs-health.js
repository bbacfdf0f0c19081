'use strict';
// Nest 11 + @nestjs/terminus 11, CommonJS: MessenteDlrHealthIndicator from
// 'nestjs-messente-dlr/health' (required with require(esm)) reports the store up.
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TerminusModule, HealthCheckService } = require('@nestjs/terminus');
const { MessenteDlrModule } = require('nestjs-messente-dlr');
const { MessenteDlrHealthIndicator } = require('nestjs-messente-dlr/health');

async function main() {
  class AppModule {}
  Module({
    imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['s'], allowedIps: false }), TerminusModule],
    providers: [MessenteDlrHealthIndicator],
  })(AppModule);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    const indicator = app.get(MessenteDlrHealthIndicator);
    const result = await app
      .get(HealthCheckService)
      .check([
        () =>
          indicator.isHealthy('messente-dlr', { maxPending: 10, maxRefusalRatio: 0.5, silentForMs: 60000 }),
      ]);
    const dlr = result.info['messente-dlr'];
    if (result.status !== 'ok' || dlr.status !== 'up' || dlr.store !== 'up' || dlr.pending !== 0) {
      throw new Error(`unexpected health result: ${JSON.stringify(result)}`);
    }
    console.log(`  health: ${JSON.stringify(result.info)}`);
    // A down result, as terminus 11 reports it, names its condition.
    const down = await indicator.isHealthy('messente-dlr', { maxPending: -1 });
    if (down['messente-dlr'].status !== 'down' || down['messente-dlr'].condition !== 'pending') {
      throw new Error(`unexpected down result: ${JSON.stringify(down)}`);
    }
    console.log(`  health down: ${JSON.stringify(down)}`);
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(`  ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
