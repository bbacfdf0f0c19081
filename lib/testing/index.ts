/**
 * Helpers for testing apps that use nestjs-messente-dlr: callback bodies, signatures, a fake
 * status API, and the contract a custom `DlrStore` must pass.
 */
export { dlrPayload } from './dlr-payload.js';
export { signDlr } from './sign-dlr.js';
export { buildSendAnswer, type BuildSendAnswerOptions, type SendAnswer } from './build-send-answer.js';
export {
  FakeMessenteApi,
  type FailNextOptions,
  type FakeMessenteApiOptions,
  type FakeMessenteApiRequest,
} from './fake-messente-api.js';
export { describeDlrStoreContract, type DlrStoreContractOptions } from './dlr-store-contract.js';
