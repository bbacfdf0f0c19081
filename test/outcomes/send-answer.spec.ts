import fc from 'fast-check';
import { parseRef, parseSendAnswer } from '../../lib/payload/send-answer.js';
import { buildSendAnswer } from '../../lib/testing/build-send-answer.js';

describe('parseSendAnswer', () => {
  it("reads Messente's snake_case answer, in fallback order", () => {
    const sent = buildSendAnswer({ channels: ['viber', 'sms'], to: '+37255550000' });
    expect(parseSendAnswer(sent)).toEqual({
      omnimessageId: sent.omnimessage_id,
      to: '+37255550000',
      messages: [
        { messageId: sent.messages[0]!.message_id, channel: 'viber' },
        { messageId: sent.messages[1]!.message_id, channel: 'sms' },
      ],
    });
  });

  it('reads the camelCase form, with no recipient', () => {
    expect(
      parseSendAnswer({ omnimessageId: 'o-1', messages: [{ messageId: 'm-1', channel: 'sms' }] }),
    ).toEqual({
      omnimessageId: 'o-1',
      to: null,
      messages: [{ messageId: 'm-1', channel: 'sms' }],
    });
  });

  it.each([
    [null, 'sent must be an object'],
    [{ messages: [] }, 'sent.omnimessage_id'],
    [{ omnimessage_id: 'o', messages: [] }, 'sent.messages must be a list'],
    [{ omnimessage_id: 'o', messages: [{ channel: 'sms' }] }, 'sent.messages[0].message_id'],
    [{ omnimessage_id: 'o', messages: [{ message_id: 'm' }] }, 'sent.messages[0].channel'],
    [
      {
        omnimessage_id: 'o',
        messages: [
          { message_id: 'm', channel: 'sms' },
          { message_id: 'm', channel: 'viber' },
        ],
      },
      'sent.messages[1].message_id repeats',
    ],
    [{ omnimessage_id: 'o', to: 5, messages: [{ message_id: 'm', channel: 'sms' }] }, 'sent.to'],
    [
      { omnimessage_id: 'x'.repeat(256), messages: [{ message_id: 'm', channel: 'sms' }] },
      'sent.omnimessage_id',
    ],
  ])('refuses %j naming the field', (sent, field) => {
    expect(() => parseSendAnswer(sent)).toThrow(TypeError);
    expect(() => parseSendAnswer(sent)).toThrow(field);
  });

  it('throws only TypeErrors, whatever it is given (fuzz)', () => {
    fc.assert(
      fc.property(fc.anything(), (sent) => {
        try {
          parseSendAnswer(sent);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }),
    );
  });
});

describe('parseRef', () => {
  it('accepts 1 to 255 characters, and no ref', () => {
    expect(parseRef('order-123')).toBe('order-123');
    expect(parseRef('€'.repeat(255))).toBe('€'.repeat(255));
    expect(parseRef(undefined)).toBeNull();
    expect(() => parseRef('')).toThrow('ref must be a string of 1 to 255 characters');
    expect(() => parseRef('x'.repeat(256))).toThrow('ref');
    expect(() => parseRef(42)).toThrow('ref');
  });
});
