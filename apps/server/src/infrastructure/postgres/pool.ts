import { ErrorCode } from '@strata/schema';
import { DomainError } from '../../domain/errors.js';
import pg from 'pg';

/** How a pool of connections to one PostgreSQL database is opened. */
export interface PoolOptions {
  /** Connections at most (default 10). */
  poolSize?: number;
  /** Give up connecting after this long, so a blackholed host fails instead of hanging (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Errors of idle connections (the server restarted, the network dropped); the pool has discarded them already. */
  onIdleError?: (error: Error) => void;
}

/**
 * The database cannot be reached (refused, reset, shut down, timed out); callers may retry later. A
 * write that failed this way was not applied, except when the connection dropped while its COMMIT
 * was in flight: then it may have been (read the scene again before retrying an edit).
 */
export class DatabaseUnavailableError extends DomainError {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    // A DomainError: callers get SERVICE_UNAVAILABLE with this message, never a masked 500.
    super(ErrorCode.SERVICE_UNAVAILABLE, `the database is unreachable (${reason}); nothing was changed, retry shortly`, {
      retryAfterMs: 1000,
    });
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
/** SQLSTATEs meaning the server is going away or not accepting connections (class 08: connection exceptions). */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
const MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /not queryable/i, /connection error/i];

/** The reason if `error` means the database is unreachable, else null. */
export function unreachableReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08'))) {
    return `${code}: ${error.message}`;
  }
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const reason = unreachableReason(inner);
      if (reason) return reason;
    }
  }
  return MESSAGES.some((m) => m.test(error.message)) ? error.message : null;
}

/** `error` as a DatabaseUnavailableError when it means that, else unchanged. */
export function mapError(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  const reason = unreachableReason(error);
  return reason ? new DatabaseUnavailableError(reason, { cause: error }) : error;
}

export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true, // notice a dead peer on an idle connection (no RST after a host or network failure)
  });
  // Without a listener an idle connection's error (a server restart) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/** A query on its own (one statement is one transaction), named so each connection prepares it once. */
export async function query<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  name: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>({ name, text, values });
  } catch (error) {
    throw mapError(error);
  }
}

/** Run `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw mapError(error);
  }
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollback) {
      broken = rollback as Error; // the connection is gone: do not hand it back to the pool
    }
    if (unreachableReason(error)) broken ??= error as Error;
    throw mapError(error);
  } finally {
    client.release(broken);
  }
}
