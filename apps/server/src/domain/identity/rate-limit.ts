import { ErrorCode } from '@strata/schema';
import { DomainError } from '../errors.js';
import type { RateLimit, SlotLimit } from '../ports.js';

/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export interface BucketRule {
  rate: number;
  burst: number;
}

/**
 * In-process per-key token buckets (key = user, or address for anonymous callers). `take` refuses with
 * RATE_LIMITED and says when a retry would succeed.
 */
export class RateLimiter implements RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rule: BucketRule,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async take(key: string, what: string): Promise<void> {
    this.takeNow(key, what);
  }

  /** The same, synchronously (presence updates). */
  takeNow(key: string, what: string): void {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.rule.burst, at: now };
    bucket.tokens = Math.min(this.rule.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rule.rate);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.rule.rate) * 1000);
      throw new DomainError(ErrorCode.RATE_LIMITED, `too many ${what}; retry in ${retryAfterMs} ms`, { retryAfterMs });
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.prune(now);
  }

  private prune(now: number): void {
    const full = (this.rule.burst / this.rule.rate) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}

/** Counts open things per key (subscriptions per user) against a ceiling, in this process. */
export class ConcurrencyLimiter implements SlotLimit {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Take a slot or throw RATE_LIMITED; returns the release function. */
  async acquire(key: string, what: string): Promise<() => void> {
    const count = this.open.get(key) ?? 0;
    if (count >= this.max) {
      throw new DomainError(ErrorCode.RATE_LIMITED, `at most ${this.max} open ${what}; close one first`, {
        retryAfterMs: 1000,
        limit: this.max,
      });
    }
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(key) ?? 1) - 1;
      if (n <= 0) this.open.delete(key);
      else this.open.set(key, n);
    };
  }
}
