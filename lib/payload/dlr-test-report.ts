/**
 * The field that marks a signed test report, such as the ones `messente-dlr doctor` sends.
 * It lives in the signed JSON body, so the signature covers it: with a secret configured, only
 * its holders can send a test report. Messente never sends it, and a test report is never
 * recorded, so it cannot stand in for a real one.
 */
export const DLR_TEST_REPORT_FIELD = 'messente_dlr_test';

/** What the webhook answers to a test report: 200 with this body, nothing recorded. */
export const DLR_TEST_REPORT_ANSWER = Object.freeze({ outcome: 'test' } as const);

/** True when a validated (so already verified) callback body is a test report. */
export function isDlrTestReport(payload: Readonly<Record<string, unknown>>): boolean {
  return payload[DLR_TEST_REPORT_FIELD] === true;
}
