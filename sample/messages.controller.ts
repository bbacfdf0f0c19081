import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DeliveryStatusService, MessenteApiError } from 'nestjs-messente-dlr';

/** `GET /messages/:omnimessageId`: the current status of each message of an omnimessage. */
@Controller('messages')
export class MessagesController {
  constructor(private readonly statuses: DeliveryStatusService) {}

  @Get(':omnimessageId')
  async current(@Param('omnimessageId') omnimessageId: string) {
    const messages = await this.lookUp(omnimessageId);
    if (messages.length === 0) throw new NotFoundException(`No reports for omnimessage ${omnimessageId}`);
    return {
      omnimessageId,
      messages: messages.map((event) => ({
        messageId: event.messageId,
        channel: event.channel,
        status: event.status,
        previousStatus: event.previousStatus,
        isFinal: event.isFinal,
        err: event.err,
        error: event.error,
        timestamp: event.timestamp,
      })),
    };
  }

  private async lookUp(omnimessageId: string) {
    try {
      return await this.statuses.current(omnimessageId);
    } catch (error) {
      if (error instanceof MessenteApiError && error.status === 404) return [];
      // Without API credentials the sample answers from the reports it received.
      if (error instanceof Error && error.message.includes('credentials are not configured')) {
        return this.statuses.forOmnimessage(omnimessageId);
      }
      throw error;
    }
  }
}
