/**
 * The closed set of error codes the API returns in `extensions.code`.
 * Clients branch on the code, never on the message.
 */
export const ErrorCode = {
  /** An argument or input field is invalid; `extensions.field` names it. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The scene, layer or frame does not exist (or is not visible to the caller). */
  NOT_FOUND: 'NOT_FOUND',
  /** The edit was based on a stale revision of the layer; `extensions.current` carries the current state. */
  CONFLICT: 'CONFLICT',
  /** The caller may see the scene but not change it. */
  FORBIDDEN: 'FORBIDDEN',
  /** The request carries no valid identity. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Too many requests; `extensions.retryAfterMs` says when to retry. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A size limit was reached (layers per scene, mask bytes, page size). */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** The operation is too deep or too costly. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** Rendering a step failed; the scene keeps its specs and can be re-rendered. */
  RENDER_FAILED: 'RENDER_FAILED',
  /** The models on disk do not match their manifest. */
  MODEL_MISMATCH: 'MODEL_MISMATCH',
  /** A dependency (the database, Redis, the inference workers) is unreachable; nothing was changed. Retry after `extensions.retryAfterMs`. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Anything unexpected; the details are logged on the server, never sent. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every error code, for exhaustive checks. */
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

/** True when `value` is one of the closed set of error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A sentence for people, per code; UIs show this, not the server's message. */
export const ERROR_SENTENCES: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'Some of the values you entered are not valid.',
  NOT_FOUND: 'This scene or layer does not exist, or you cannot see it.',
  CONFLICT: 'Someone else changed this layer first; your view has been updated.',
  FORBIDDEN: 'You can look at this scene but not change it.',
  UNAUTHENTICATED: 'Your session has expired; reload the page.',
  RATE_LIMITED: 'You are going a little fast; try again in a moment.',
  LIMIT_EXCEEDED: 'This scene has reached a limit.',
  QUERY_TOO_COMPLEX: 'The request asked for too much at once.',
  RENDER_FAILED: 'The painter could not paint this step; try re-rendering.',
  MODEL_MISMATCH: 'The server models are misconfigured.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable; nothing was lost. Try again in a moment.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on our side.',
};
