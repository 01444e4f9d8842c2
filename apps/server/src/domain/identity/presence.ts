import type { Role } from '@strata/schema';
import type { PresenceBoard } from '../ports.js';
import type { UserData } from './identity.js';

/** One person in a scene now. */
export interface ParticipantData {
  user: UserData;
  role: Role;
  selectedLayerId: string | null;
  pointer: { x: number; y: number } | null;
  connections: number;
}

type Listener = (participants: readonly ParticipantData[]) => void;

/**
 * Who is in each scene, in this process (the embedded default; `RedisPresenceBoard` across
 * replicas): a person joins with their first open stream of it and leaves with the last.
 * Selections and pointers are kept as latest values; listeners are told of changes at most once
 * per `throttleMs`, so a moving pointer costs a bounded number of events, and each change builds
 * the participant list once for every listener.
 */
export class PresenceHub implements PresenceBoard {
  private readonly scenes = new Map<string, Map<string, ParticipantData>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout | null; last: number }>();

  constructor(private readonly throttleMs = 50) {}

  /** Count one open stream of `user` in `sceneId`; returns the function that leaves. */
  async join(sceneId: string, user: UserData, role: Role): Promise<() => void> {
    const people = this.scenes.get(sceneId) ?? new Map<string, ParticipantData>();
    this.scenes.set(sceneId, people);
    const existing = people.get(user.id);
    if (existing) {
      existing.connections++;
      existing.role = role;
    } else people.set(user.id, { user, role, selectedLayerId: null, pointer: null, connections: 1 });
    this.changed(sceneId, true);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const p = people.get(user.id);
      if (!p) return;
      p.connections--;
      if (p.connections <= 0) people.delete(user.id);
      if (people.size === 0) this.scenes.delete(sceneId);
      this.changed(sceneId, true);
    };
  }

  /** Update what someone has selected and where their pointer is. False when they are not in the scene. */
  async update(
    sceneId: string,
    userId: string,
    selectedLayerId: string | null,
    pointer: { x: number; y: number } | null,
  ): Promise<boolean> {
    const p = this.scenes.get(sceneId)?.get(userId);
    if (!p) return false;
    p.selectedLayerId = selectedLayerId;
    p.pointer = pointer;
    this.changed(sceneId, false);
    return true;
  }

  /** Remove a person from a scene at once (their access was revoked). */
  async evict(sceneId: string, userId: string): Promise<void> {
    if (this.scenes.get(sceneId)?.delete(userId)) this.changed(sceneId, true);
  }

  async list(sceneId: string): Promise<ParticipantData[]> {
    return this.snapshot(sceneId);
  }

  private snapshot(sceneId: string): ParticipantData[] {
    return [...(this.scenes.get(sceneId)?.values() ?? [])].map((p) => ({ ...p, pointer: p.pointer ? { ...p.pointer } : null }));
  }

  async subscribe(sceneId: string, listener: Listener): Promise<() => void> {
    const set = this.listeners.get(sceneId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(sceneId, set);
    listener(this.snapshot(sceneId));
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sceneId);
    };
  }

  /** Joins and leaves are told at once; pointer moves at most once per throttle interval. */
  private changed(sceneId: string, now: boolean): void {
    const state = this.timers.get(sceneId) ?? { timer: null, last: 0 };
    this.timers.set(sceneId, state);
    const fire = () => {
      state.timer = null;
      state.last = performance.now();
      const listeners = this.listeners.get(sceneId);
      if (listeners) {
        const participants = this.snapshot(sceneId);
        for (const listener of listeners) listener(participants);
      }
      if (!this.scenes.has(sceneId) && !this.listeners.has(sceneId)) this.timers.delete(sceneId);
    };
    const wait = this.throttleMs - (performance.now() - state.last);
    if (now || wait <= 0) {
      if (state.timer) clearTimeout(state.timer);
      fire();
    } else if (!state.timer) state.timer = setTimeout(fire, wait);
  }

  async close(): Promise<void> {
    for (const state of this.timers.values()) if (state.timer) clearTimeout(state.timer);
    this.timers.clear();
    this.listeners.clear();
    this.scenes.clear();
  }
}
