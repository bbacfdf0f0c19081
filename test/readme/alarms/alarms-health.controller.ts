import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';

@Controller('health')
export class AlarmsHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dlr: MessenteDlrHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () =>
        this.dlr.isHealthy('messente-dlr', {
          maxPending: 1_000,
          maxRefusalRatio: 0.5, // over the last 5 minutes, once 10 requests came
          silentForMs: 15 * 60_000, // tracked sends pending, no report for 15 minutes
        }),
    ]);
  }
}
