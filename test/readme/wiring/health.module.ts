import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';

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

@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [MessenteDlrHealthIndicator],
})
export class HealthModule {}
