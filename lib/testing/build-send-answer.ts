import { randomUUID } from 'node:crypto';

/** Options of `buildSendAnswer()`. */
export interface BuildSendAnswerOptions {
  /** The fallback order, one message per channel; default `['sms']`. */
  readonly channels?: readonly string[];
  /** The recipient; default `+3725555555`. */
  readonly to?: string;
}

/** Messente's answer to `POST /omnimessage`, in its snake_case shape. */
export interface SendAnswer {
  omnimessage_id: string;
  to: string;
  messages: { message_id: string; channel: string; sender: string }[];
}

/**
 * A send answer with fresh ids, as Messente returns it from `POST /omnimessage`: for
 * `DeliveryStatusService.track()` in tests and samples, and to build the reports of each
 * message (`dlrPayload({ message_id, omnimessage_id, channel })`).
 */
export function buildSendAnswer(options: BuildSendAnswerOptions = {}): SendAnswer {
  const channels = options.channels ?? ['sms'];
  return {
    omnimessage_id: randomUUID(),
    to: options.to ?? '+3725555555',
    messages: channels.map((channel) => ({ message_id: randomUUID(), channel, sender: 'MySender' })),
  };
}
