import { describeRefusal, isLocalAddress } from '../../lib/telemetry/refusal-log.js';

describe('isLocalAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.20',
    '169.254.1.1',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::FFFF:10.2.3.4',
  ])('%s is loopback or private', (ip) => expect(isLocalAddress(ip)).toBe(true));
  it.each([
    '203.0.113.9',
    '5.9.48.210',
    '172.32.0.1',
    '11.0.0.1',
    '2001:db8::1',
    '::ffff:8.8.8.8',
    '',
    'not-an-ip',
  ])('%s is not', (ip) => expect(isLocalAddress(ip)).toBe(false));
});

describe('describeRefusal', () => {
  it('adds the fix only to an IP refusal from a local address', () => {
    expect(describeRefusal('ip_not_allowed', '203.0.113.9', 403, 0)).toBe(
      'Refused a delivery report from 203.0.113.9 with 403 (ip_not_allowed): not in allowedIps',
    );
    expect(describeRefusal('ip_not_allowed', '192.168.0.7', 403, 0)).toContain(
      '192.168.0.7 is a loopback or private address: add it to allowedIps for local testing',
    );
    expect(describeRefusal('signature_missing', '127.0.0.1', 401, 0)).not.toContain('allowedIps');
  });

  it('counts what was left out, and quotes a client IP that is not an address', () => {
    expect(describeRefusal('invalid_body', '', 400, 3)).toBe(
      'Refused a delivery report from an unknown address with 400 (invalid_body): the body is not a ' +
        'valid delivery report (the 400 answer lists why) (3 more invalid_body refusals since the last such line)',
    );
    expect(describeRefusal('ip_not_allowed', 'evil\u001b[31m', 403, 0)).toContain(
      'from "evil\\u001b[31m" with',
    );
  });
});
