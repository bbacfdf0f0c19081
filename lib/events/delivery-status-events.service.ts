import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { DeliveryStatusChanged } from './delivery-status-changed.event.js';

/**
 * The changes as an rxjs stream, for users who prefer operators to decorated handlers.
 * Emits each change once per process: a redispatch after a failed handler does not emit it again.
 */
@Injectable()
export class DeliveryStatusEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<DeliveryStatusChanged>();

  /** Every accepted change: duplicates and stale reports never appear here. */
  readonly changes$: Observable<DeliveryStatusChanged> = this.subject.asObservable();

  /** Publishes a change. Called by the dispatcher only. */
  publish(event: DeliveryStatusChanged): void {
    this.subject.next(event);
  }

  /** Completes `changes$`, so subscribers know no more changes come. */
  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
