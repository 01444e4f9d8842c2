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
  /** Note a delivered result: its `seq`, when newer, becomes the cursor a resubscription sends. */
  track(result: { data?: unknown }): void;
}

/** The `seq` of the root field of a subscription result, when it has one. */
export function rootSeq(data: unknown): number | null {
  if (!data || typeof data !== 'object') return null;
  for (const value of Object.values(data)) {
    if (value && typeof value === 'object' && 'seq' in value && typeof value.seq === 'number') return value.seq;
  }
  return null;
}

/**
 * Wrap a request whose variables may hold an `after` cursor. Results are never dropped here: events
 * that are not in the log (presence) repeat the latest `seq`, and the scene view ignores logged events
 * it has already folded in.
 */
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
      if (resumes && seq !== null && (after === null || seq > after)) after = seq;
    },
  };
}
