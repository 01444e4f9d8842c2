import { randomUUID } from 'node:crypto';
import type { Role } from '@strata/schema';
import type { Redis } from 'ioredis';
import type { UserData } from '../../domain/identity/identity.js';
import type { ParticipantData } from '../../domain/identity/presence.js';
import type { PresenceBoard } from '../../domain/ports.js';
import { connectRedis, type RedisLog } from './redis-bus.js';

/*
 * Per scene S, under the prefix:
 *   <p>S:conns   sorted set: one member per open stream, "<userId>|<connectionId>", scored by its
 *                expiry (Redis's clock); the owning process renews its members (a heartbeat)
 *   <p>S:people  hash: u:<userId> {user, role}, s:<userId> {selectedLayerId, pointer},
 *                a:<userId> alive-until, j:<userId> first join, e:<userId> evicted at
 *   <p>S         channel: "now" (joins, leaves, evictions, expiries) or "later" (pointer moves)
 * Every script reads the time from Redis and announces its own change, in one round trip.
 */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const USER_OF = `local function user_of(m) return string.match(m, '^(.*)|[^|]*$') end
local function has_conn(key, uid)
  for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do if user_of(m) == uid then return true end end
  return false
end
local function forget(key, uid) redis.call('HDEL', key, 'u:' .. uid, 's:' .. uid, 'a:' .. uid, 'j:' .. uid) end
`;

/** KEYS conns, people, channel; ARGV member, userId, {user, role}, ttl */
const JOIN = `${NOW}
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], 'u:' .. ARGV[2], ARGV[3], 'a:' .. ARGV[2], now + ttl)
redis.call('HSETNX', KEYS[2], 'j:' .. ARGV[2], now)
redis.call('HDEL', KEYS[2], 'e:' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', KEYS[3], 'now')
return 1`;

/** KEYS conns, people, channel; ARGV member, userId */
const LEAVE = `${NOW}${USER_OF}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not has_conn(KEYS[1], ARGV[2]) then forget(KEYS[2], ARGV[2]) end
if removed > 0 then redis.call('PUBLISH', KEYS[3], 'now') end
return removed`;

/** KEYS conns, people, channel; ARGV userId */
const EVICT = `${NOW}${USER_OF}
local removed = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if user_of(m) == ARGV[1] then removed = removed + redis.call('ZREM', KEYS[1], m) end
end
local known = redis.call('HEXISTS', KEYS[2], 'u:' .. ARGV[1])
forget(KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], 'e:' .. ARGV[1], now)
if removed > 0 or known == 1 then redis.call('PUBLISH', KEYS[3], 'now') end
return removed`;

/** KEYS conns, people, channel; ARGV userId, {selectedLayerId, pointer} */
const UPDATE = `${NOW}
local alive = tonumber(redis.call('HGET', KEYS[2], 'a:' .. ARGV[1]) or '0')
if alive < now or redis.call('HEXISTS', KEYS[2], 'u:' .. ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 's:' .. ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[3], 'later')
return 1`;

/**
 * The heartbeat of one process for one scene: renew its members (re-adding them if Redis lost them,
 * unless their person was evicted) and drop expired ones (a dead process's). Announces either change.
 * KEYS conns, people, channel; ARGV ttl, then (member, userId, {user, role}) triples.
 */
const HEARTBEAT = `${NOW}
local ttl = tonumber(ARGV[1])
local changed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #ARGV, 3 do
  local uid = ARGV[i + 1]
  if redis.call('HEXISTS', KEYS[2], 'e:' .. uid) == 0 then
    changed = changed + redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
    redis.call('HSETNX', KEYS[2], 'u:' .. uid, ARGV[i + 2])
    redis.call('HSETNX', KEYS[2], 'j:' .. uid, now)
    redis.call('HSET', KEYS[2], 'a:' .. uid, now + ttl)
  end
end
if #ARGV > 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if changed > 0 then redis.call('PUBLISH', KEYS[3], 'now') end
return changed`;

/**
 * The participants: live members counted per person, with their records; records of people without
 * a live member are dropped. KEYS conns, people; returns (userId, {user, role}, state, joined, count)*.
 */
const LIST = `${NOW}${USER_OF}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local counts = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local uid = user_of(m)
  if uid then counts[uid] = (counts[uid] or 0) + 1 end
end
local out = {}
for uid, count in pairs(counts) do
  local rec = redis.call('HMGET', KEYS[2], 'u:' .. uid, 's:' .. uid, 'j:' .. uid)
  if rec[1] then
    table.insert(out, uid)
    table.insert(out, rec[1])
    table.insert(out, rec[2] or '')
    table.insert(out, rec[3] or '0')
    table.insert(out, count)
  end
end
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  local uid = string.match(field, '^u:(.*)$')
  if uid and not counts[uid] then forget(KEYS[2], uid) end
end
return out`;

type Listener = (participants: readonly ParticipantData[]) => void;

interface Watch {
  listeners: Set<Listener>;
  /** Subscribers waiting for `ready`. */
  pending: number;
  /** SUBSCRIBE confirmed and the first list loaded. */
  ready: Promise<void>;
  current: readonly ParticipantData[];
  last: number;
  timer: NodeJS.Timeout | null;
  refreshing: boolean;
  again: boolean;
}

interface Connection {
  sceneId: string;
  member: string;
  userId: string;
  record: string;
}

export interface RedisPresenceOptions {
  /** Pointer moves are told at most once per this (joins and leaves at once); default 50 ms. */
  throttleMs?: number;
  /** A stream not renewed for this long is gone (its process died); default 15 s. */
  ttlMs?: number;
  /** How often this process renews its streams and sweeps the scenes it watches; default a third of the TTL. */
  heartbeatMs?: number;
  /** How long `subscribe` waits for Redis (while it is down, say) before it fails; default 5000 ms. */
  subscribeTimeoutMs?: number;
  prefix?: string;
  log?: RedisLog;
}

/**
 * Presence across replicas. Each open stream is an entry in its scene's sorted set that expires
 * unless the owning process renews it, so a killed replica's participants disappear after the TTL
 * (the heartbeat of any process watching the scene sweeps them and announces it). Every change is
 * announced on the scene's channel, which a process subscribes to once, however many local
 * listeners it has; on each announcement (pointer moves throttled) it reads the participants once
 * and hands that one list to all of its listeners: one message and one read per change per replica.
 */
export class RedisPresenceBoard implements PresenceBoard {
  private readonly watches = new Map<string, Watch>();
  private readonly connections = new Map<string, Connection>();
  private readonly throttleMs: number;
  private readonly ttlMs: number;
  private readonly prefix: string;
  private readonly log: RedisLog;
  private readonly subscribeTimeoutMs: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly sub: Redis,
    options: RedisPresenceOptions,
  ) {
    this.throttleMs = options.throttleMs ?? 50;
    this.ttlMs = options.ttlMs ?? 15_000;
    this.prefix = options.prefix ?? 'strata:presence:';
    this.log = options.log ?? { info: () => {}, error: () => {} };
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? 5000;
    sub.on('message', (channel: string, message: string) => {
      const sceneId = channel.slice(this.prefix.length);
      this.changed(sceneId, message === 'now');
    });
    // After a reconnect (ioredis re-subscribes the channels), read again what may have changed meanwhile.
    let connected = true;
    sub.on('close', () => (connected = false));
    sub.on('ready', () => {
      if (connected) return;
      connected = true;
      for (const sceneId of this.watches.keys()) this.changed(sceneId, true);
    });
    this.timer = setInterval(() => void this.heartbeat(), options.heartbeatMs ?? Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  static async open(url: string, options: RedisPresenceOptions = {}): Promise<RedisPresenceBoard> {
    const redis = await connectRedis(url, { name: 'presence', log: options.log, failFast: true });
    try {
      const sub = await connectRedis(url, { name: 'presence-sub', log: options.log, redis: { maxRetriesPerRequest: null } });
      return new RedisPresenceBoard(redis, sub, options);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  private keys(sceneId: string): [string, string, string] {
    const base = this.prefix + sceneId;
    return [`${base}:conns`, `${base}:people`, base];
  }

  async join(sceneId: string, user: UserData, role: Role): Promise<() => void> {
    const id = randomUUID();
    const connection: Connection = { sceneId, member: `${user.id}|${id}`, userId: user.id, record: JSON.stringify({ user, role }) };
    this.connections.set(id, connection);
    try {
      await this.redis.eval(JOIN, 3, ...this.keys(sceneId), connection.member, user.id, connection.record, String(this.ttlMs));
    } catch (error) {
      // Presence must not keep a stream from opening: the heartbeat adds the entry once Redis is back.
      this.log.error('presence: join failed; retried by the heartbeat', { error: (error as Error).message });
    }
    return () => {
      if (!this.connections.delete(id) || this.closed) return;
      // If this fails the entry expires: nobody renews it any more.
      this.redis
        .eval(LEAVE, 3, ...this.keys(sceneId), connection.member, user.id)
        .catch((error: Error) => this.log.error('presence: leave failed; the entry will expire', { error: error.message }));
    };
  }

  async update(
    sceneId: string,
    userId: string,
    selectedLayerId: string | null,
    pointer: { x: number; y: number } | null,
  ): Promise<boolean> {
    const state = JSON.stringify({ selectedLayerId, pointer });
    return Number(await this.redis.eval(UPDATE, 3, ...this.keys(sceneId), userId, state)) === 1;
  }

  /** Never fails: the caller has already revoked access, and the person's streams end with its next event anyway. */
  async evict(sceneId: string, userId: string): Promise<void> {
    try {
      await this.redis.eval(EVICT, 3, ...this.keys(sceneId), userId);
    } catch (error) {
      this.log.error('presence: evict failed; the streams leave when they end', { sceneId, error: (error as Error).message });
    }
  }

  /** Presence is transient: while Redis is unreachable a scene reads as empty rather than failing the query. */
  async list(sceneId: string): Promise<ParticipantData[]> {
    try {
      return await this.read(sceneId);
    } catch (error) {
      this.log.error('presence: reading participants failed', { sceneId, error: (error as Error).message });
      return [];
    }
  }

  private async read(sceneId: string): Promise<ParticipantData[]> {
    const [conns, people] = this.keys(sceneId);
    const flat = (await this.redis.eval(LIST, 2, conns, people)) as (string | number)[];
    const rows: { joined: number; userId: string; participant: ParticipantData }[] = [];
    for (let i = 0; i + 4 < flat.length; i += 5) {
      const { user, role } = JSON.parse(String(flat[i + 1])) as { user: UserData; role: Role };
      const state = flat[i + 2]
        ? (JSON.parse(String(flat[i + 2])) as { selectedLayerId: string | null; pointer: { x: number; y: number } | null })
        : { selectedLayerId: null, pointer: null };
      rows.push({
        joined: Number(flat[i + 3]),
        userId: String(flat[i]),
        participant: { user, role, selectedLayerId: state.selectedLayerId, pointer: state.pointer, connections: Number(flat[i + 4]) },
      });
    }
    // In the order people arrived, like the in-process hub.
    rows.sort((a, b) => a.joined - b.joined || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    return rows.map((r) => r.participant);
  }

  async subscribe(sceneId: string, listener: Listener): Promise<() => void> {
    if (this.closed) throw new Error('presence board closed');
    let watch = this.watches.get(sceneId);
    if (!watch) {
      const created: Watch = {
        listeners: new Set(),
        pending: 0,
        ready: Promise.resolve(),
        current: [],
        last: 0,
        timer: null,
        refreshing: false,
        again: false,
      };
      created.ready = (async () => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            this.sub.subscribe(this.keys(sceneId)[2]),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error('presence: Redis did not confirm the subscription')), this.subscribeTimeoutMs);
            }),
          ]);
        } finally {
          clearTimeout(timer);
        }
        created.current = await this.list(sceneId);
      })();
      this.watches.set(sceneId, created);
      watch = created;
    }
    const own = watch;
    own.pending++;
    try {
      await own.ready;
    } catch (error) {
      own.pending--;
      this.drop(sceneId, own);
      throw error;
    }
    own.pending--;
    own.listeners.add(listener);
    listener(own.current);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      own.listeners.delete(listener);
      this.drop(sceneId, own);
    };
  }

  /** Forget a watch nobody uses any more (and unsubscribe its channel). */
  private drop(sceneId: string, watch: Watch): void {
    if (watch.listeners.size > 0 || watch.pending > 0 || this.watches.get(sceneId) !== watch) return;
    this.watches.delete(sceneId);
    if (watch.timer) clearTimeout(watch.timer);
    if (!this.closed)
      this.sub
        .unsubscribe(this.keys(sceneId)[2])
        .catch((error: Error) => this.log.error('presence: unsubscribe failed', { error: error.message }));
  }

  /** An announcement: joins and leaves are read at once, pointer moves at most once per throttle interval. */
  private changed(sceneId: string, now: boolean): void {
    const watch = this.watches.get(sceneId);
    if (!watch) return;
    const wait = this.throttleMs - (performance.now() - watch.last);
    if (now || wait <= 0) {
      if (watch.timer) clearTimeout(watch.timer);
      watch.timer = null;
      void this.refresh(sceneId, watch);
    } else if (!watch.timer) {
      watch.timer = setTimeout(() => {
        watch.timer = null;
        void this.refresh(sceneId, watch);
      }, wait);
    }
  }

  /** Read the participants once and hand the same list to every local listener. */
  private async refresh(sceneId: string, watch: Watch): Promise<void> {
    if (watch.refreshing) {
      watch.again = true;
      return;
    }
    watch.refreshing = true;
    try {
      do {
        watch.again = false;
        watch.last = performance.now();
        try {
          watch.current = await this.read(sceneId); // on failure the last list stands
        } catch (error) {
          this.log.error('presence: reading participants failed', { sceneId, error: (error as Error).message });
          return;
        }
        if (this.watches.get(sceneId) !== watch) return;
        for (const listener of watch.listeners) {
          try {
            listener(watch.current);
          } catch (error) {
            this.log.error('presence listener failed', { error: String(error) });
          }
        }
      } while (watch.again);
    } finally {
      watch.refreshing = false;
    }
  }

  /** Renew this process's streams and sweep expired ones in every scene it has streams in or watches. */
  private async heartbeat(): Promise<void> {
    const scenes = new Map<string, string[]>();
    for (const sceneId of this.watches.keys()) scenes.set(sceneId, []);
    for (const c of this.connections.values()) {
      const args = scenes.get(c.sceneId) ?? [];
      args.push(c.member, c.userId, c.record);
      scenes.set(c.sceneId, args);
    }
    if (scenes.size === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const [sceneId, args] of scenes) pipeline.eval(HEARTBEAT, 3, ...this.keys(sceneId), String(this.ttlMs), ...args);
      const results = await pipeline.exec();
      const error = results?.find(([e]) => e)?.[0];
      if (error) throw error;
    } catch (error) {
      this.log.error('presence: heartbeat failed', { error: (error as Error).message });
    }
  }

  /** Stop; with `leave` (the default) this process's streams leave at once, otherwise they expire. */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const watch of this.watches.values()) if (watch.timer) clearTimeout(watch.timer);
    this.watches.clear();
    const connections = [...this.connections.values()];
    this.connections.clear();
    if (options.leave !== false && connections.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const c of connections) pipeline.eval(LEAVE, 3, ...this.keys(c.sceneId), c.member, c.userId);
      await pipeline.exec().catch(() => {});
    }
    this.redis.disconnect();
    this.sub.disconnect();
  }
}
