import { Injectable, Logger } from '@nestjs/common';
import { OnDlrAlarm, type DeliveryAlarm } from 'nestjs-messente-dlr';

@Injectable()
export class DeliveryPager {
  private readonly logger = new Logger(DeliveryPager.name);
  readonly pages: string[] = [];

  @OnDlrAlarm()
  onAlarm({ kind, state, detail }: DeliveryAlarm): void {
    if (state === 'cleared') return this.page(`resolved: ${kind}`);
    switch (kind) {
      case 'refusals':
        return this.page(`webhook refused ${detail.refused}/${detail.requests}: ${detail.topReason}`);
      case 'silence':
        return this.page(`no delivery report for ${detail.silentForMs / 1_000} s, sends pending`);
      case 'account':
        return this.page(`Messente account ${detail.account ?? 'default'}: ${detail.reason}`);
    }
  }

  private page(text: string): void {
    this.pages.push(text); // your pager, chat or incident tool here
    this.logger.warn(text);
  }
}
