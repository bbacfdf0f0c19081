import { describeDlrError } from 'nestjs-messente-dlr';

/**
 * A send of the sample's traffic: the recipient, the channels in fallback order, and the reports
 * each channel's message gets, as `[channel, status, seconds before the run, err?]`.
 */
interface TrafficSend {
  readonly to: string;
  readonly channels: readonly string[];
  readonly reports: readonly (readonly [string, string, number, number?])[];
}

/**
 * Twenty-four sends to seven countries on four channels, with what became of them: delivered in
 * a few seconds or in minutes, seen, failed for several reasons (err 1, 2, 3, 999, and one
 * account-level err 4), delivered after a fallback to SMS, and three still pending. The numbers
 * are valid mobile numbers of each country's plan, so that the panel can tell the countries
 * apart. Times are seconds before the run: a message's time to deliver is from its ACCEPTD to
 * its DELIVRD (or SEEN), as Messente's `timestamp`s say.
 */
const SENDS: readonly TrafficSend[] = [
  // Estonia
  {
    to: '+37251234567',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 600],
      ['sms', 'DELIVRD', 596],
    ],
  },
  {
    to: '+37255512345',
    channels: ['viber'],
    reports: [
      ['viber', 'ACCEPTD', 540],
      ['viber', 'DELIVRD', 530],
      ['viber', 'SEEN', 400, 10],
    ],
  },
  {
    to: '+37256789012',
    channels: ['viber', 'sms'],
    reports: [
      ['viber', 'ACCEPTD', 500],
      ['viber', 'EXPIRED', 440, 2],
      ['sms', 'ACCEPTD', 438],
      ['sms', 'DELIVRD', 420],
    ],
  },
  { to: '+37258123456', channels: ['sms'], reports: [['sms', 'ACCEPTD', 300]] },
  // Lithuania
  {
    to: '+37061234567',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 580],
      ['sms', 'DELIVRD', 555],
    ],
  },
  {
    to: '+37062345678',
    channels: ['whatsapp'],
    reports: [
      ['whatsapp', 'ACCEPTD', 520],
      ['whatsapp', 'SEEN', 250, 10],
    ],
  },
  {
    to: '+37063456789',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 470],
      ['sms', 'FAILED', 430, 1],
    ],
  },
  {
    to: '+37064567890',
    channels: ['viber', 'sms'],
    reports: [
      ['viber', 'ACCEPTD', 360],
      ['viber', 'FAILED', 330, 1],
      ['sms', 'ACCEPTD', 328],
      ['sms', 'DELIVRD', 300],
    ],
  },
  // Latvia
  {
    to: '+37122123456',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 450],
      ['sms', 'DELIVRD', 442],
    ],
  },
  {
    to: '+37126543210',
    channels: ['rcs'],
    reports: [
      ['rcs', 'ACCEPTD', 420],
      ['rcs', 'DELIVRD', 380],
      ['rcs', 'SEEN', 200, 10],
    ],
  },
  {
    to: '+37129876543',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 380],
      ['sms', 'UNDELIV', 377, 3],
    ],
  },
  // Finland
  {
    to: '+358401234567',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 560],
      ['sms', 'DELIVRD', 470],
    ],
  },
  {
    to: '+358501234567',
    channels: ['whatsapp', 'sms'],
    reports: [
      ['whatsapp', 'ACCEPTD', 400],
      ['whatsapp', 'FAILED', 390, 999],
      ['sms', 'ACCEPTD', 388],
      ['sms', 'DELIVRD', 376],
    ],
  },
  { to: '+358451234567', channels: ['viber', 'sms'], reports: [['viber', 'ACCEPTD', 200]] },
  // United Kingdom
  {
    to: '+447700123456',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 590],
      ['sms', 'DELIVRD', 584],
    ],
  },
  {
    to: '+447812345678',
    channels: ['rcs', 'sms'],
    reports: [
      ['rcs', 'ACCEPTD', 500],
      ['rcs', 'EXPIRED', 320, 2],
      ['sms', 'ACCEPTD', 318],
      ['sms', 'DELIVRD', 170],
    ],
  },
  {
    to: '+447400123456',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 260],
      ['sms', 'FAILED', 200, 999],
    ],
  },
  // Germany
  {
    to: '+4915123456789',
    channels: ['whatsapp'],
    reports: [
      ['whatsapp', 'ACCEPTD', 480],
      ['whatsapp', 'DELIVRD', 476],
      ['whatsapp', 'SEEN', 100, 10],
    ],
  },
  {
    to: '+4917612345678',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 420],
      ['sms', 'DELIVRD', 180],
    ],
  },
  {
    to: '+491609876543',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 350],
      ['sms', 'FAILED', 349, 4],
    ],
  },
  // United States
  {
    to: '+12015550123',
    channels: ['sms'],
    reports: [
      ['sms', 'ACCEPTD', 570],
      ['sms', 'DELIVRD', 60],
    ],
  },
  {
    to: '+14155550132',
    channels: ['rcs'],
    reports: [
      ['rcs', 'ACCEPTD', 300],
      ['rcs', 'SEEN', 290, 10],
    ],
  },
  { to: '+12125550199', channels: ['sms'], reports: [['sms', 'ACCEPTD', 150]] },
  {
    to: '+16175550148',
    channels: ['viber', 'sms'],
    reports: [
      ['viber', 'ACCEPTD', 240],
      ['viber', 'UNDELIV', 200, 1],
      ['sms', 'ACCEPTD', 198],
      ['sms', 'FAILED', 190, 3],
    ],
  },
];

/** A scenario in the format of `messente-dlr scenario` (see docs/cli.md). */
export interface TrafficScenario {
  readonly sends: Record<string, { channels: readonly string[]; ref: string; to: string }>;
  readonly steps: {
    name: string;
    report: Record<string, unknown>;
    expect: { httpStatus: number; outcome: string };
  }[];
}

/** Messente's `timestamp`: UTC without an offset, with microseconds (`2020-02-04T08:09:42.389630`). */
function messenteTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000');
}

/**
 * The sample's traffic as a scenario for `messente-dlr scenario --track`: its sends (ref
 * `sample-traffic-01` and on), then every report of every send in the order Messente would
 * have sent them, stamped relative to `now`. Each report is a change the webhook takes.
 */
export function sampleTraffic(now: number = Date.now()): TrafficScenario {
  const sends: TrafficScenario['sends'] = {};
  const reports: { secondsAgo: number; order: number; step: TrafficScenario['steps'][number] }[] = [];
  SENDS.forEach((send, index) => {
    const name = `traffic-${String(index + 1).padStart(2, '0')}`;
    sends[name] = { channels: send.channels, ref: `sample-${name}`, to: send.to };
    for (const [channel, status, secondsAgo, err = 0] of send.reports) {
      const error = describeDlrError(err);
      reports.push({
        secondsAgo,
        order: reports.length,
        step: {
          name: `${name} ${channel} ${status}${error ? ` err ${err}` : ''}`,
          report: {
            message_id: `$send.${name}.${channel}`,
            omnimessage_id: `$send.${name}.omnimessage_id`,
            channel,
            to: `$send.${name}.to`,
            status,
            err,
            error: error?.text ?? null,
            timestamp: messenteTimestamp(now - secondsAgo * 1000),
          },
          expect: { httpStatus: 200, outcome: 'change' },
        },
      });
    }
  });
  // Oldest first, as they happened; a message's own reports are already in that order.
  reports.sort((a, b) => b.secondsAgo - a.secondsAgo || a.order - b.order);
  return { sends, steps: reports.map((report) => report.step) };
}
