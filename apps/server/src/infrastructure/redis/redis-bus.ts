import { Redis, type RedisOptions } from 'ioredis';
import type { EventBus } from '../../domain/ports.js';
import type { StoredEvent } from '../../domain/scenes/types.js';

/** What the Redis adapters log through (the server's logger fits). */
export interface RedisLog {
  info(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

const silent: RedisLog = { info: () => {}, error: () => {} };

/**
 * An ioredis connection that never gives up: it reconnects with a capped back-off, and its errors
 * are logged (once per outage, not once per retry) instead of surfacing as unhandled 'error' events.
 * `failFast` connections refuse commands at once while disconnected (no offline queue), so a caller
 * never waits for Redis to come back.
 */
export async function connectRedis(
  url: string,
  options: { name: string; log?: RedisLog; failFast?: boolean; redis?: RedisOptions },
): Promise<Redis> {
  const log = options.log ?? silent;
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: `strata-${options.name}`,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    ...(options.failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 } : {}),
    ...options.redis,
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.error('redis connection lost; reconnecting', { connection: options.name, error: error.message });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('redis connection back', { connection: options.name });
  });
  await client.connect();
  return client;
}

export interface RedisEventBusOptions {
  /** A listener threw (it is isolated from the others). */
  onListenerError?: (error: unknown) => void;
  log?: RedisLog;
  /** Channel names are `<prefix><sceneId>`; default `strata:scene:`. */
  prefix?: string;
  /** How long `subscribe` waits for Redis to confirm (while it is down, say) before it fails; default 5000 ms. */
  subscribeTimeoutMs?: number;
  /** After Redis comes back, ring each scene published meanwhile again at these delays; default [500, 3000] ms. */
  ringAfterMs?: number[];
}

/** Scenes remembered for ringing again after an outage (the oldest are forgotten past this). */
const MAX_RINGS = 10_000;

interface Channel {
  listeners: Set<(event: StoredEvent) => void>;
  /** Settles when Redis confirmed the SUBSCRIBE. */
  ready: Promise<void>;
}

/**
 * Fan-out of stored events across processes on Redis pub/sub: one channel per scene, subscribed once
 * per process however many local listeners it has, and fanned out locally like the memory bus.
 * One connection publishes, one subscribes. Messages carry the stored events as JSON.
 *
 * Best effort by design: the database's event log is the truth. A publish that fails (Redis down)
 * is logged, not thrown; a subscriber that missed events sees a gap in the sequence numbers at the
 * next event and reads the log (graphql/event-stream.ts). The subscriber connection reconnects on
 * its own and ioredis re-subscribes every confirmed channel on reconnect.
 */
export class RedisEventBus implements EventBus {
  private readonly channels = new Map<string, Channel>();
  private readonly prefix: string;
  private readonly onListenerError: (error: unknown) => void;
  private readonly log: RedisLog;
  private readonly subscribeTimeoutMs: number;
  private publishFailing = false;
  private closed = false;
  /** The last event of each scene published while Redis was away or just back, to ring again. */
  private readonly rings = new Map<string, StoredEvent>();
  private readonly ringAfterMs: number[];
  private ringTimers: NodeJS.Timeout[] = [];
  private pubDown = false;
  /** Until then (performance.now) a publish may not reach replicas still re-subscribing. */
  private settlingUntil = 0;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    options: RedisEventBusOptions,
  ) {
    this.prefix = options.prefix ?? 'strata:scene:';
    this.log = options.log ?? silent;
    this.onListenerError = options.onListenerError ?? ((error) => this.log.error('event listener failed', { error: String(error) }));
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? 5000;
    this.ringAfterMs = options.ringAfterMs ?? [500, 3000];
    sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
    pub.on('close', () => (this.pubDown = true));
    pub.on('ready', () => {
      if (!this.pubDown) return;
      this.pubDown = false;
      this.ringAgain();
    });
  }

  /**
   * Events published while Redis was down are lost, and so are those published just after it came
   * back, before other replicas re-subscribed. Ringing each such scene's last event again a little
   * later makes their streams see the gap and read the log, without waiting for the scene's next event
   * (a repeated event is skipped by its sequence number).
   */
  private ringAgain(): void {
    for (const timer of this.ringTimers) clearTimeout(timer);
    const last = Math.max(0, ...this.ringAfterMs);
    this.settlingUntil = performance.now() + last;
    this.ringTimers = this.ringAfterMs.map((ms) => {
      const timer = setTimeout(() => {
        const events = [...this.rings.values()];
        if (ms === last) this.rings.clear();
        if (events.length > 0) void this.send(events);
      }, ms);
      timer.unref();
      return timer;
    });
  }

  private remember(events: readonly StoredEvent[]): void {
    for (const event of events) {
      this.rings.delete(event.sceneId);
      this.rings.set(event.sceneId, event);
    }
    while (this.rings.size > MAX_RINGS) this.rings.delete(this.rings.keys().next().value!);
  }

  static async open(url: string, options: RedisEventBusOptions = {}): Promise<RedisEventBus> {
    const pub = await connectRedis(url, { name: 'bus-pub', log: options.log, failFast: true });
    try {
      // The subscriber queues a SUBSCRIBE made while disconnected (subscribe's timeout bounds the wait).
      const sub = await connectRedis(url, { name: 'bus-sub', log: options.log, redis: { maxRetriesPerRequest: null } });
      return new RedisEventBus(pub, sub, options);
    } catch (error) {
      pub.disconnect();
      throw error;
    }
  }

  async publish(events: readonly StoredEvent[]): Promise<void> {
    if (this.closed || events.length === 0) return;
    if (this.pubDown || this.pub.status !== 'ready' || performance.now() < this.settlingUntil) this.remember(events);
    await this.send(events);
  }

  private async send(events: readonly StoredEvent[]): Promise<void> {
    // One message per scene per call, its events in order; commands on one connection stay in order.
    const byScene = new Map<string, StoredEvent[]>();
    for (const event of events) {
      const list = byScene.get(event.sceneId) ?? [];
      list.push(event);
      byScene.set(event.sceneId, list);
    }
    try {
      await Promise.all([...byScene].map(([sceneId, list]) => this.pub.publish(this.prefix + sceneId, JSON.stringify(list))));
      if (this.publishFailing) {
        this.publishFailing = false;
        this.log.info('event fan-out publishing again');
      }
    } catch (error) {
      this.remember(events);
      if (!this.publishFailing) {
        this.publishFailing = true;
        this.log.error('event fan-out publish failed; subscribers will catch up from the log', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  async subscribe(sceneId: string, listener: (event: StoredEvent) => void): Promise<() => void> {
    if (this.closed) throw new Error('event bus closed');
    const name = this.prefix + sceneId;
    let channel = this.channels.get(name);
    if (!channel) {
      const created: Channel = { listeners: new Set(), ready: this.sub.subscribe(name).then(() => {}) };
      // A failed SUBSCRIBE forgets the channel, so the next subscriber tries again.
      created.ready.catch(() => {
        if (this.channels.get(name) === created) this.channels.delete(name);
      });
      this.channels.set(name, created);
      channel = created;
    }
    const own = channel;
    own.listeners.add(listener);
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      own.listeners.delete(listener);
      if (own.listeners.size === 0 && this.channels.get(name) === own) {
        this.channels.delete(name);
        if (!this.closed)
          this.sub.unsubscribe(name).catch((error: Error) => this.log.error('unsubscribe failed', { error: error.message }));
      }
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        own.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`event bus: Redis did not confirm the subscription within ${this.subscribeTimeoutMs} ms`)),
            this.subscribeTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      unsubscribe();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return unsubscribe;
  }

  private deliver(name: string, message: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    let events: StoredEvent[];
    try {
      events = JSON.parse(message) as StoredEvent[];
    } catch (error) {
      this.log.error('malformed event message', { channel: name, error: String(error) });
      return;
    }
    const listeners = [...channel.listeners];
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
  }

  /** How many scenes this process is subscribed to (for tests and metrics). */
  get subscribedScenes(): number {
    return this.channels.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.ringTimers) clearTimeout(timer);
    this.channels.clear();
    // Every publish was awaited by its caller; nothing queued is worth waiting for (Redis may be down).
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
