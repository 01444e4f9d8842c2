import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { LeaseBoard } from '../../src/domain/ports.js';
import { MemoryLeaseBoard } from '../../src/infrastructure/memory/memory-leases.js';
import { RedisLeaseBoard } from '../../src/infrastructure/redis/redis-leases.js';
import { startRedis, type Engine } from '../engines/engines.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The rules every LeaseBoard keeps; `make` gives two boards that share state (two processes). */
function leaseContract(name: string, make: () => [LeaseBoard, LeaseBoard]) {
  describe(`LeaseBoard contract: ${name}`, () => {
    it('[lease-1] grants a name to one holder at a time, across boards, until released', async () => {
      const [a, b] = make();
      const held = await a.acquire('render:s1', 5000);
      expect(held).not.toBeNull();
      expect(await b.acquire('render:s1', 5000)).toBeNull();
      expect(await a.acquire('render:s1', 5000)).toBeNull();
      expect(await b.acquire('render:s2', 5000)).not.toBeNull();
      await held!.release();
      expect(await b.acquire('render:s1', 5000)).not.toBeNull();
    });

    it('[lease-2] expires an unrenewed lease; a lost lease cannot be renewed or release the new holder', async () => {
      const [a, b] = make();
      const first = (await a.acquire('render:x', 100))!;
      expect(await first.renew()).toBe(true);
      await sleep(250);
      const second = await b.acquire('render:x', 5000);
      expect(second).not.toBeNull();
      expect(await first.renew()).toBe(false);
      await first.release();
      expect(await a.acquire('render:x', 5000)).toBeNull();
    });

    it('[lease-3] keeps a renewed lease past its first expiry', async () => {
      const [a, b] = make();
      const lease = (await a.acquire('render:y', 200))!;
      for (let i = 0; i < 4; i++) {
        await sleep(80);
        expect(await lease.renew()).toBe(true);
      }
      expect(await b.acquire('render:y', 200)).toBeNull();
    });
  });
}

leaseContract('memory', () => {
  const board = new MemoryLeaseBoard();
  return [board, board];
});

let redis: Engine;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.dispose();
});
leaseContract('redis', () => {
  const prefix = `test:${Math.random().toString(36).slice(2)}:`;
  const a = new Redis(redis.url);
  const b = new Redis(redis.url);
  clients.push(a, b);
  return [new RedisLeaseBoard(a, prefix), new RedisLeaseBoard(b, prefix)];
});
