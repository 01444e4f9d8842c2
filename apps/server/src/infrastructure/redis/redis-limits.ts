import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@strata/schema';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../../domain/errors.js';
import type { BucketRule } from '../../domain/identity/rate-limit.js';
import type { RateLimit, SlotLimit } from '../../domain/ports.js';
import type { RedisLog } from './redis-bus.js';

const silent: RedisLog = { info: () => {}, error: () => {} };

/**
 * The fixed window rate-limiter-flexible can keep for a token bucket {rate, burst}: windows are whole
 * seconds (the library floors them), so `duration` = burst/rate rounded to a whole second (at least
 * 1) and `points` = rate x duration. Where burst/rate is a whole number (the server's rules: burst
 * is twice the rate) that is exactly `burst` points per burst/rate seconds: the same average rate and
 * the same burst. The difference to a bucket: a window refills all at once, not a token at a time,
 * and a client that spends a window's points at its end and the next window's at its start gets up
 * to twice the burst in a short span.
 */
export function windowFor(rule: BucketRule): { points: number; duration: number } {
  const duration = Math.max(1, Math.round(rule.burst / rule.rate));
  return { points: Math.max(1, Math.round(rule.rate * duration)), duration };
}

/**
 * Per-key rate limits shared by every process (RateLimiterRedis: one counter per key and window, in
 * one Lua script). While Redis is unreachable each process falls back to the same rule in memory
 * (the library's insurance limiter), so a Redis outage neither blocks nor unlimits callers.
 */
export class RedisRateLimit implements RateLimit {
  private readonly limiter: RateLimiterRedis;

  /** `name` keeps rules apart (`mutations`, `presence`); the client should be a fail-fast connection (`connectRedis(url, { failFast: true })`). */
  constructor(redis: Redis, rule: BucketRule, name: string, options: { prefix?: string } = {}) {
    const window = windowFor(rule);
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${options.prefix ?? 'strata:rate:'}${name}`,
      ...window,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `insurance:${name}`, ...window }),
    });
  }

  async take(key: string, what: string): Promise<void> {
    try {
      await this.limiter.consume(key, 1);
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      const retryAfterMs = Math.max(1, Math.ceil(result.msBeforeNext));
      throw new DomainError(ErrorCode.RATE_LIMITED, `too many ${what}; retry in ${retryAfterMs} ms`, { retryAfterMs });
    }
  }
}

/**
 * Take a slot if fewer than max live ones exist. Entries are members of a sorted set per key scored
 * by their expiry (Redis's clock, so replicas' clocks do not matter); expired ones are dropped first.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

/** Renew this process's live slots of one key (re-adding them if Redis lost them, e.g. after a restart). */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

export interface RedisSlotLimitOptions {
  /** A slot not renewed for this long is free (its process died); default 20 s. */
  ttlMs?: number;
  /** How often this process renews its slots; default a third of the TTL. */
  heartbeatMs?: number;
  prefix?: string;
  log?: RedisLog;
}

/**
 * Open things per key (streams per person) against one ceiling across every process: 20 streams on
 * replica A leave none for replica B. Each slot is an entry that expires unless its owning process
 * renews it (a heartbeat), so a killed replica's slots free themselves after the TTL; release removes
 * the entry at once. While Redis is unreachable, the ceiling is kept per process (logged).
 */
export class RedisSlotLimit implements SlotLimit {
  /** This process's live slots: key -> slot ids. */
  private readonly held = new Map<string, Set<string>>();
  private readonly owner = randomUUID();
  private readonly ttlMs: number;
  private readonly prefix: string;
  private readonly log: RedisLog;
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly max: number,
    options: RedisSlotLimitOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 20_000;
    this.prefix = options.prefix ?? 'strata:slots:';
    this.log = options.log ?? silent;
    this.timer = setInterval(() => void this.renew(), options.heartbeatMs ?? Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async acquire(key: string, what: string): Promise<() => void> {
    const slot = `${this.owner}:${this.next++}`;
    let ok: boolean;
    try {
      ok = Number(await this.redis.eval(ACQUIRE, 1, this.prefix + key, slot, String(this.max), String(this.ttlMs))) === 1;
      this.recovered();
    } catch (error) {
      this.failed(error);
      ok = (this.held.get(key)?.size ?? 0) < this.max; // this process's share is all it can count now
    }
    if (!ok) {
      throw new DomainError(ErrorCode.RATE_LIMITED, `at most ${this.max} open ${what}; close one first`, {
        retryAfterMs: 1000,
        limit: this.max,
      });
    }
    const slots = this.held.get(key) ?? new Set<string>();
    slots.add(slot);
    this.held.set(key, slots);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slots.delete(slot);
      if (slots.size === 0 && this.held.get(key) === slots) this.held.delete(key);
      // If this fails the entry simply expires.
      this.redis.zrem(this.prefix + key, slot).catch((error: unknown) => this.failed(error));
    };
  }

  /** The heartbeat: one script per key this process holds slots of, pipelined. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const [key, slots] of this.held) pipeline.eval(RENEW, 1, this.prefix + key, String(this.ttlMs), ...slots);
      const results = await pipeline.exec();
      const error = results?.find(([e]) => e)?.[0];
      if (error) throw error;
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log.error('stream ceiling: Redis unreachable; counting this process only', {
      error: error instanceof Error ? error.message : String(error),
    });
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info('stream ceiling: Redis back');
  }

  /** Stop the heartbeat; with `release` (the default) this process's slots are given back at once, otherwise they expire. */
  async close(options: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    const held = [...this.held];
    this.held.clear();
    if (options.release === false) return;
    await Promise.allSettled(held.map(([key, slots]) => this.redis.zrem(this.prefix + key, ...slots)));
  }
}
