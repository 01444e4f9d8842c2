/**
 * @strata/schema/client: typed GraphQL documents and the error-code table, for the web app,
 * the tests and third-party TypeScript clients. Imports no server code and no decorators.
 */
export * from './generated.js';
export { ErrorCode, ERROR_CODES, ERROR_SENTENCES, isErrorCode } from '../errors.js';
