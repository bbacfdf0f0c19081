import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';

/** `GET /health`: 200 while the report store answers and few changes are pending, else 503. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dlr: MessenteDlrHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.dlr.isHealthy('messente-dlr', { maxPending: 1_000 })]);
  }
}
