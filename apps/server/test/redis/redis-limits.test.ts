import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infrastructure/redis/redis-bus.js';
import { RedisRateLimit, RedisSlotLimit, windowFor } from '../../src/infrastructure/redis/redis-limits.js';
import { limitsContract } from '../contracts/limits.contract.js';
import { hasRedis, startRedis, type Engine } from '../engines/engines.js';

describe.skipIf(!hasRedis())('Redis limits', () => {
  let redis: Engine;
  const clients: Redis[] = [];
  const slotLimits: RedisSlotLimit[] = [];
  const client = async () => {
    const c = await connectRedis(redis.url, { name: 'limits', failFast: true });
    clients.push(c);
    return c;
  };
  const TTL = 300;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(slotLimits.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.dispose();
  });

  limitsContract('redis (two processes)', {
    rate: async (rule) => new RedisRateLimit(await client(), rule, 'mutations'),
    slots: async (max) => {
      const a = new RedisSlotLimit(await client(), max, { ttlMs: TTL });
      const b = new RedisSlotLimit(await client(), max, { ttlMs: TTL });
      slotLimits.push(a, b);
      return { a, b, ttlMs: TTL, kill: () => a.close({ release: false }) };
    },
  });

  it('maps the token-bucket rule to a window: same rate, same burst where burst/rate is whole', () => {
    expect(windowFor({ rate: 20, burst: 40 })).toEqual({ points: 40, duration: 2 });
    expect(windowFor({ rate: 30, burst: 60 })).toEqual({ points: 60, duration: 2 });
    expect(windowFor({ rate: 10, burst: 5 })).toEqual({ points: 10, duration: 1 });
  });

  it('a rate limit is shared by the replicas', async () => {
    const [a, b] = [
      new RedisRateLimit(await client(), { rate: 3, burst: 3 }, 'shared'),
      new RedisRateLimit(await client(), { rate: 3, burst: 3 }, 'shared'),
    ];
    await a.take('k', 'changes');
    await b.take('k', 'changes');
    await a.take('k', 'changes');
    await expect(b.take('k', 'changes')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('keeps limiting (per process) while Redis is down, and shares again once it is back', async () => {
    const limit = new RedisRateLimit(await client(), { rate: 2, burst: 2 }, 'outage');
    const slots = new RedisSlotLimit(await client(), 2, { ttlMs: 1000 });
    slotLimits.push(slots);
    await redis.stop({ kill: true });
    try {
      await limit.take('k', 'changes');
      await limit.take('k', 'changes');
      await expect(limit.take('k', 'changes')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await slots.acquire('k', 'streams');
      await slots.acquire('k', 'streams');
      await expect(slots.acquire('k', 'streams')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await redis.start();
    }
    // The heartbeat puts the slots taken during the outage back into Redis: another replica sees them.
    const probe = await client();
    await expect.poll(() => probe.zcard('strata:slots:k'), { timeout: 5000 }).toBe(2);
    const other = new RedisSlotLimit(await client(), 2, { ttlMs: 1000 });
    slotLimits.push(other);
    await expect(other.acquire('k', 'streams')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
