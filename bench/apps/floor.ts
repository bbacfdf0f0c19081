import {
  BadRequestException,
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  HttpCode,
  Injectable,
  Module,
  PipeTransform,
  Post,
  UseGuards,
} from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CountController, handled } from './counter.js';

/**
 * (f) The floor: the least work in Nest's idiom that the package's contract needs per report,
 * each step as cheap as it can be written. An IP guard on `request.ip`, an HMAC-SHA256 guard
 * over the raw body, a pipe that checks the two fields every report needs, a Map of each
 * message's last status that answers its repeat as a duplicate (bounded by clearing it), and
 * the handler called after the answer, one macrotask per I/O phase. No history, no pending state, no telemetry, no
 * event object, no freezing: what it leaves out, the package must do, so the package cannot
 * be faster than this, and no target above it can be met.
 */
const ALLOWED_IPS = new Set(['127.0.0.1', '::ffff:127.0.0.1', '::1']);
const SECRET = process.env['BENCH_SECRET'] ?? 'bench-secret';
const MAX_REMEMBERED = 100_000;

interface FloorRequest {
  ip?: string;
  rawBody?: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

@Injectable()
class FloorIpGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return ALLOWED_IPS.has(context.switchToHttp().getRequest<FloorRequest>().ip ?? '');
  }
}

@Injectable()
class FloorSignatureGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FloorRequest>();
    const signature = request.headers['x-messente-signature'];
    if (typeof signature !== 'string' || signature.length !== 64 || !request.rawBody) return false;
    const expected = Buffer.from(signature, 'hex');
    if (expected.length !== 32) return false;
    return timingSafeEqual(createHmac('sha256', SECRET).update(request.rawBody).digest(), expected);
  }
}

interface FloorReport {
  message_id: string;
  status: string;
}

@Injectable()
class FloorPipe implements PipeTransform<unknown, FloorReport> {
  transform(body: unknown): FloorReport {
    const report = body as Partial<FloorReport> | null;
    if (typeof report?.message_id !== 'string' || typeof report.status !== 'string')
      throw new BadRequestException();
    return report as FloorReport;
  }
}

const seen = new Map<string, string>();
let queued: FloorReport[] = [];

function handleQueued(): void {
  const reports = queued;
  queued = [];
  for (const _report of reports) handled.count++;
}

@Controller()
class FloorDlrController {
  @Post('messente/dlr')
  @HttpCode(200)
  @UseGuards(FloorIpGuard, FloorSignatureGuard)
  receive(@Body(FloorPipe) report: FloorReport): { outcome: string } {
    if (seen.get(report.message_id) === report.status) return { outcome: 'duplicate' };
    if (seen.size >= MAX_REMEMBERED) seen.clear();
    seen.set(report.message_id, report.status);
    if (queued.push(report) === 1) setImmediate(handleQueued);
    return { outcome: 'change' };
  }
}

@Module({ controllers: [FloorDlrController, CountController] })
export class FloorAppModule {}
