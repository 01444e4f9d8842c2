import { ErrorCode } from '@strata/schema';

/** Extra, typed details an error may carry to the client. */
export interface ErrorDetails {
  /** Path of the input field at fault, e.g. `input.box.w`. */
  field?: string;
  /** For CONFLICT: the current state of what the caller tried to change. */
  current?: unknown;
  /** For RATE_LIMITED: milliseconds until a retry may succeed. */
  retryAfterMs?: number;
  /** For LIMIT_EXCEEDED: the limit. */
  limit?: number;
  /** A finer, stable reason within a code (e.g. NOTHING_TO_UNDO under BAD_USER_INPUT). */
  reason?: string;
}

/**
 * An expected error: its message and details are safe to show to the caller.
 * Anything else thrown is unexpected and is masked before it leaves the server.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Bad input naming the field at fault. */
export function badInput(field: string, message: string): DomainError {
  return new DomainError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
}

/** A scene, layer or resource that does not exist (or is hidden from the caller). */
export function notFound(what: string, id: string, field?: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`, field ? { field } : {});
}

/** True for errors whose message may be shown to callers. */
export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
