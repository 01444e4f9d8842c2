import type { Lease, LeaseBoard } from '../../domain/ports.js';

/** Leases within one process (the embedded default): expiring, like the Redis ones. */
export class MemoryLeaseBoard implements LeaseBoard {
  private readonly held = new Map<string, { token: number; until: number }>();
  private nextToken = 1;

  async acquire(name: string, ttlMs: number): Promise<Lease | null> {
    const now = Date.now();
    const current = this.held.get(name);
    if (current && current.until > now) return null;
    const token = this.nextToken++;
    this.held.set(name, { token, until: now + ttlMs });
    return {
      renew: async () => {
        const entry = this.held.get(name);
        if (!entry || entry.token !== token) return false;
        entry.until = Date.now() + ttlMs;
        return true;
      },
      release: async () => {
        if (this.held.get(name)?.token === token) this.held.delete(name);
      },
    };
  }
}
