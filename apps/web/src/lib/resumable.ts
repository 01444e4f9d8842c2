/**
 * A subscribe payload that resumes where it left off.
 *
 * graphql-ws re-sends the very same payload object after a reconnect, stringifying it anew each time.
 * For a subscription that takes an `after` cursor, this payload reads `after` from the newest `seq` it
 * has delivered, so a resubscription replays exactly the events missed while the socket was down.
 */
export interface ResumablePayload {
  query: string;
  operationName?: string | undefined;
  readonly variables: Record<string, unknown>;
  extensions?: Record<string, unknown> | undefined;
  /** Record a delivered result; returns false when its `seq` was already delivered (a duplicate). */
  track(result: { data?: unknown }): boolean;
}

/** The `seq` of the root field of a subscription result, when it has one. */
export function rootSeq(data: unknown): number | null {
  if (!data || typeof data !== 'object') return null;
  for (const value of Object.values(data)) {
    if (value && typeof value === 'object' && 'seq' in value && typeof value.seq === 'number') return value.seq;
  }
  return null;
}

/** Wrap a request whose variables may hold an `after` cursor. */
export function createResumablePayload(request: {
  query?: string | undefined;
  operationName?: string | undefined;
  variables?: Record<string, unknown> | undefined;
  extensions?: Record<string, unknown> | undefined;
}): ResumablePayload {
  const base = request.variables ?? {};
  const resumes = 'after' in base;
  let after = typeof base.after === 'number' ? base.after : null;
  return {
    query: request.query ?? '',
    operationName: request.operationName,
    extensions: request.extensions,
    get variables() {
      return resumes && after !== null ? { ...base, after } : base;
    },
    track(result) {
      const seq = rootSeq(result.data);
      if (seq === null || !resumes) return true;
      if (after !== null && seq <= after) return false;
      after = seq;
      return true;
    },
  };
}
