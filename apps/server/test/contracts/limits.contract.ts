import { ErrorCode } from '@strata/schema';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import type { BucketRule } from '../../src/domain/identity/rate-limit.js';
import type { RateLimit, SlotLimit } from '../../src/domain/ports.js';

/** Two "replicas" sharing one ceiling (the same object where the implementation is in-process only). */
export interface SlotPair {
  a: SlotLimit;
  b: SlotLimit;
  /** Kill replica A without releasing anything (absent where a process's death takes its state along). */
  kill?: () => Promise<void>;
  /** How long a dead owner's slot lives. */
  ttlMs?: number;
}

export interface LimitsFactory {
  rate(rule: BucketRule): Promise<RateLimit> | RateLimit;
  slots(max: number): Promise<SlotPair> | SlotPair;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const freshKey = () => `user-${process.pid}-${Date.now()}-${n++}`;

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(ErrorCode.RATE_LIMITED);
  return error as DomainError;
}

/** The rules every RateLimit and SlotLimit keeps, run against each implementation. */
export function limitsContract(name: string, make: LimitsFactory): void {
  describe(`limits contract: ${name}`, () => {
    const rule = { rate: 4, burst: 4 };

    it('[rate-1] allows the burst, then refuses with RATE_LIMITED and when to retry; other keys are apart', async () => {
      const limit = await make.rate(rule);
      const key = freshKey();
      for (let i = 0; i < rule.burst; i++) await limit.take(key, 'changes');
      const error = await refusal(limit.take(key, 'changes'));
      const retryAfterMs = (error.details as { retryAfterMs: number }).retryAfterMs;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual((rule.burst / rule.rate) * 1000);
      expect(error.message).toBe(`too many changes; retry in ${retryAfterMs} ms`);
      await expect(limit.take(freshKey(), 'changes')).resolves.toBeUndefined();
    });

    it('[rate-2] recovers after the time it said', async () => {
      const limit = await make.rate(rule);
      const key = freshKey();
      for (let i = 0; i < rule.burst; i++) await limit.take(key, 'changes');
      const error = await refusal(limit.take(key, 'changes'));
      await sleep((error.details as { retryAfterMs: number }).retryAfterMs + 30);
      await expect(limit.take(key, 'changes')).resolves.toBeUndefined();
    });

    it('[slots-1] a ceiling taken on replica A leaves nothing on replica B', async () => {
      const { a, b } = await make.slots(20);
      const key = freshKey();
      for (let i = 0; i < 20; i++) await a.acquire(key, 'scene streams');
      const error = await refusal(b.acquire(key, 'scene streams'));
      expect(error.details).toMatchObject({ limit: 20 });
      expect(error.message).toBe('at most 20 open scene streams; close one first');
      await refusal(a.acquire(key, 'scene streams'));
      await expect(b.acquire(freshKey(), 'scene streams')).resolves.toBeTypeOf('function');
    });

    it('[slots-2] release frees a slot for any replica, once', async () => {
      const { a, b } = await make.slots(2);
      const key = freshKey();
      const release = await a.acquire(key, 'streams');
      await a.acquire(key, 'streams');
      await refusal(b.acquire(key, 'streams'));
      release();
      release(); // twice gives back one slot
      await expect
        .poll(() =>
          b.acquire(key, 'streams').then(
            () => true,
            () => false,
          ),
        )
        .toBe(true);
      await refusal(b.acquire(key, 'streams'));
    });

    it("[slots-3] a live owner keeps its slots; a dead owner's slots expire", async (context) => {
      const pair = await make.slots(3);
      if (!pair.kill) return context.skip();
      const key = freshKey();
      for (let i = 0; i < 3; i++) await pair.a.acquire(key, 'streams');
      await sleep((pair.ttlMs ?? 0) * 2.5); // renewed by the heartbeat meanwhile
      await refusal(pair.b.acquire(key, 'streams'));
      await pair.kill();
      await refusal(pair.b.acquire(key, 'streams'));
      await sleep((pair.ttlMs ?? 0) + 100);
      for (let i = 0; i < 3; i++) await pair.b.acquire(key, 'streams');
      await refusal(pair.b.acquire(key, 'streams'));
    });
  });
}
