import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  HttpCode,
  Injectable,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CountController, handled } from './counter.js';

/**
 * (b) What a user writes today without the package: an IP allowlist guard, a class-validator
 * DTO with the package's rules (validated by the global `ValidationPipe` that `server.ts`
 * installs) and an `EventEmitter2` event per status. No signature check, no dedup, no store.
 * (b+sig) The same plus an HMAC signature guard, so that it does the package's security work.
 */
const ALLOWED_IPS = new Set(['127.0.0.1', '::ffff:127.0.0.1', '::1']);

@Injectable()
class IpAllowlistGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return ALLOWED_IPS.has(context.switchToHttp().getRequest<{ ip?: string }>().ip ?? '');
  }
}

/** The signature check a careful user adds: hex HMAC-SHA256 of the raw body, constant-time compare. */
@Injectable()
class SignatureGuard implements CanActivate {
  private readonly key = process.env['BENCH_SECRET'] ?? 'bench-secret';

  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ rawBody?: Buffer; headers: Record<string, unknown> }>();
    const signature = request.headers['x-messente-signature'];
    if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature) || !request.rawBody) return false;
    const actual = createHmac('sha256', this.key).update(request.rawBody).digest();
    return timingSafeEqual(actual, Buffer.from(signature, 'hex'));
  }
}

class PriceInfoDto {
  @IsOptional() @IsString() part_price?: string;
  @IsOptional() @IsInt() parts_count?: number;
  @IsOptional() @IsString() total_price?: string;
}

class DlrCallbackDto {
  @IsString() @IsNotEmpty() @MaxLength(255) message_id!: string;
  @IsString() @Matches(/^[A-Z_]{1,32}$/) status!: string;
  @IsOptional() @IsString() @MaxLength(255) omnimessage_id?: string;
  @IsOptional() @IsString() channel?: string;
  @IsOptional() @IsString() to?: string;
  @IsOptional() @IsString() sender?: string;
  @IsOptional() @IsInt() err?: number | null;
  @IsOptional() @IsString() error?: string | null;
  @IsOptional() @IsISO8601() timestamp?: string;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => PriceInfoDto) price_info?: PriceInfoDto;
}

@Controller()
class HandWrittenDlrController {
  constructor(private readonly events: EventEmitter2) {}

  @Post('messente/dlr')
  @HttpCode(200)
  @UseGuards(IpAllowlistGuard)
  receive(@Body() body: DlrCallbackDto): { ok: true } {
    this.events.emit(`dlr.${body.status}`, body);
    return { ok: true };
  }
}

@Controller()
class SignedHandWrittenDlrController extends HandWrittenDlrController {
  @Post('messente/dlr')
  @HttpCode(200)
  @UseGuards(IpAllowlistGuard, SignatureGuard)
  override receive(@Body() body: DlrCallbackDto): { ok: true } {
    return super.receive(body);
  }
}

@Injectable()
class DlrEventHandler {
  @OnEvent('dlr.*')
  onAny(_body: DlrCallbackDto): void {
    handled.count++;
  }
}

@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true })],
  controllers: [HandWrittenDlrController, CountController],
  providers: [DlrEventHandler],
})
export class HandWrittenAppModule {}

@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true })],
  controllers: [SignedHandWrittenDlrController, CountController],
  providers: [DlrEventHandler],
})
export class SignedHandWrittenAppModule {}
