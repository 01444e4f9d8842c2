import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, isErrorCode } from '@strata/schema';
import { isDomainError } from '../domain/errors.js';

/** Where masked errors go. */
export type ErrorLogger = (message: string, data: Record<string, unknown>) => void;

const COERCION_PATH = /at "([^"]+)"/;
const VARIABLE = /Variable "\$([^"]+)"/;

/**
 * One normaliser for every error leaving the API, on HTTP and WebSocket alike: expected errors
 * keep their code, message and details; GraphQL's own validation and coercion errors become
 * BAD_USER_INPUT naming the field; anything else is logged and masked.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: ErrorLogger): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? null) : error;
  if (isDomainError(original)) {
    return { ...formatted, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  const code = formatted.extensions?.['code'];
  // A text the parser could not read is the client's, whatever the parser threw on the way (a
  // document nested deep enough overflows its recursion: a RangeError, wrapped by Apollo).
  const unparsable = code === 'GRAPHQL_PARSE_FAILED';
  if (unparsable || original === null || (original instanceof GraphQLError && !original.originalError)) {
    // Produced by graphql-js itself: parse, validation, variable coercion, or our limit rules
    // (whose code Apollo replaces with GRAPHQL_VALIDATION_FAILED, keeping ours on the original).
    const own = original instanceof GraphQLError ? original.extensions['code'] : code;
    if (isErrorCode(own) && own !== ErrorCode.BAD_USER_INPUT) return { ...formatted, extensions: { ...formatted.extensions, code: own } };
    const field = COERCION_PATH.exec(formatted.message)?.[1] ?? VARIABLE.exec(formatted.message)?.[1];
    return {
      ...formatted,
      extensions: {
        ...formatted.extensions,
        code: ErrorCode.BAD_USER_INPUT,
        ...(field ? { field } : {}),
        reason: code === ErrorCode.BAD_USER_INPUT || !code ? 'GRAPHQL_VALIDATION_FAILED' : code,
      },
    };
  }
  log('unexpected error', {
    message: formatted.message,
    path: formatted.path,
    error: original instanceof Error ? original.stack : String(original),
  });
  return {
    message: 'Internal server error',
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
