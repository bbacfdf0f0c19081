/**
 * The field that marks a signed test report, such as the ones `messente-dlr doctor` sends.
 * It lives in the signed JSON body, so the signature covers it: without a configured secret
 * no one can turn a report into a test report. Messente never sends it.
 */
export const DLR_TEST_REPORT_FIELD = 'messente_dlr_test';

/** What the webhook answers to a test report: 200 with this body, nothing recorded. */
export const DLR_TEST_REPORT_ANSWER = Object.freeze({ outcome: 'test' } as const);

/** True when a validated (so already verified) callback body is a test report. */
export function isDlrTestReport(payload: Readonly<Record<string, unknown>>): boolean {
  return payload[DLR_TEST_REPORT_FIELD] === true;
}
