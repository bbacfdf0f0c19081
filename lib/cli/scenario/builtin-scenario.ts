/**
 * The scenario `messente-dlr scenario` runs without a file, in the file format: what a
 * webhook meets in real life. Every expectation holds for an app whose module is configured
 * with the secret the CLI signs with, on a fresh store.
 */
export const BUILTIN_SCENARIO = {
  steps: [
    {
      name: 'SMS accepted by the operator',
      report: { status: 'ACCEPTD' },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'SMS delivered',
      report: {
        message_id: '$step.1.message_id',
        omnimessage_id: '$step.1.omnimessage_id',
        status: 'DELIVRD',
      },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'the same report again',
      report: {
        message_id: '$step.1.message_id',
        omnimessage_id: '$step.1.omnimessage_id',
        status: 'DELIVRD',
      },
      expect: { httpStatus: 200, outcome: 'duplicate' },
    },
    {
      name: 'Viber accepted',
      report: { channel: 'viber', status: 'ACCEPTD' },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'Viber expired (err 2)',
      report: {
        message_id: '$step.4.message_id',
        omnimessage_id: '$step.4.omnimessage_id',
        channel: 'viber',
        status: 'EXPIRED',
        err: 2,
        error: 'Sending message expired',
        price_info: null,
      },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'fallback to SMS: accepted',
      report: { omnimessage_id: '$step.4.omnimessage_id', channel: 'sms', status: 'ACCEPTD' },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'fallback to SMS: delivered',
      report: {
        message_id: '$step.6.message_id',
        omnimessage_id: '$step.4.omnimessage_id',
        status: 'DELIVRD',
      },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'WhatsApp delivered, arrives first',
      report: { channel: 'whatsapp', status: 'DELIVRD' },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'WhatsApp accepted, arrives late',
      report: {
        message_id: '$step.8.message_id',
        omnimessage_id: '$step.8.omnimessage_id',
        channel: 'whatsapp',
        status: 'ACCEPTD',
      },
      expect: { httpStatus: 200, outcome: 'stale' },
    },
    {
      name: 'WhatsApp seen',
      report: {
        message_id: '$step.8.message_id',
        omnimessage_id: '$step.8.omnimessage_id',
        channel: 'whatsapp',
        status: 'SEEN',
        err: 10,
      },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'SMS to an invalid number (err 3)',
      report: { status: 'UNDELIV', err: 3, error: 'Invalid number', price_info: null },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'unsigned report',
      report: { status: 'DELIVRD' },
      sign: false,
      expect: { httpStatus: 401 },
    },
    {
      name: 'wrongly signed report',
      report: { status: 'DELIVRD' },
      sign: 'wrong',
      expect: { httpStatus: 401 },
    },
  ],
} as const;
