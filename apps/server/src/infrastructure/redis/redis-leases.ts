import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Lease, LeaseBoard } from '../../domain/ports.js';

/** Extend or delete a key only while it still holds our token (compare-and-set in one script). */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Leases on Redis: `SET key token NX PX ttl`; renewal and release check the token, so a holder
 * that lost its lease (it expired while the process was stalled) cannot extend or drop another's.
 */
export class RedisLeaseBoard implements LeaseBoard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'strata:lease:',
  ) {}

  async acquire(name: string, ttlMs: number): Promise<Lease | null> {
    const key = this.prefix + name;
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      renew: async () => Number(await this.redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1,
      release: async () => {
        await this.redis.eval(RELEASE, 1, key, token);
      },
    };
  }
}
