import type { CombinedError } from 'urql';
import { ERROR_SENTENCES, isErrorCode, type ErrorCode } from '@strata/schema/client';

/** Codes the client adds for failures that never reached the API's error table. */
export const ClientErrorCode = {
  /** The request did not reach the server, or the answer was not GraphQL. */
  NETWORK: 'NETWORK',
  /** A file the user picked could not be read as a scene document. */
  BAD_FILE: 'BAD_FILE',
  /** Undo with an empty history. */
  NOTHING_TO_UNDO: 'NOTHING_TO_UNDO',
  /** Redo with nothing undone. */
  NOTHING_TO_REDO: 'NOTHING_TO_REDO',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

const CLIENT_SENTENCES: Record<ClientErrorCode, string> = {
  NETWORK: 'The server cannot be reached; check your connection and try again.',
  BAD_FILE: 'That file is not a scene exported from here.',
  NOTHING_TO_UNDO: 'Nothing to undo.',
  NOTHING_TO_REDO: 'Nothing to redo.',
};

/** An error as the UI shows it: a code to branch on, a sentence for people, the input field at fault. */
export interface UserError {
  code: ErrorCode | ClientErrorCode;
  sentence: string;
  /** `extensions.field` of a BAD_USER_INPUT error, e.g. `input.box.w`. */
  field: string | null;
}

/** The sentence shown for a code. */
export function sentenceFor(code: ErrorCode | ClientErrorCode): string {
  return isErrorCode(code) ? ERROR_SENTENCES[code] : CLIENT_SENTENCES[code];
}

/** A user error with the given code. */
export function userError(code: ErrorCode | ClientErrorCode, field: string | null = null): UserError {
  return { code, sentence: sentenceFor(code), field };
}

/** The first GraphQL error's code (or NETWORK), mapped to a sentence; never the server's message. */
export function toUserError(error: CombinedError): UserError {
  const first = error.graphQLErrors[0];
  if (!first) return userError(ClientErrorCode.NETWORK);
  const { code, field } = first.extensions;
  return userError(isErrorCode(code) ? code : 'INTERNAL_SERVER_ERROR', typeof field === 'string' ? field : null);
}
