import { Visibility, type Role } from '@strata/schema';
import type { UserData } from '../../domain/identity/identity.js';
import type {
  AccessStore,
  ApiTokenRecord,
  HistoryEntry,
  InviteRecord,
  MemberRecord,
  SceneCommit,
  SceneFilter,
  ScenePage,
  SceneStore,
} from '../../domain/ports.js';
import type { SceneData, SceneEventData, StoredEvent } from '../../domain/scenes/types.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

const clone = <T>(value: T): T => structuredClone(value);

/** An in-memory store with the same contract as the SQLite one (tests, benches). */
export class MemorySceneStore implements SceneStore, AccessStore {
  private readonly scenes = new Map<string, SceneData>();
  private readonly events = new Map<string, StoredEvent[]>();
  private readonly seqs = new Map<string, number>();
  private readonly history = new Map<string, (HistoryEntry & { id: number; undone: boolean })[]>();
  private readonly frames = new Map<string, string>();
  private readonly rendering = new Set<string>();
  private nextHistoryId = 1;
  private readonly users = new Map<string, UserData>();
  private readonly memberships = new Map<string, MemberRecord[]>();
  private readonly inviteList: InviteRecord[] = [];
  private readonly tokens: ApiTokenRecord[] = [];
  private readonly revokedSessions = new Map<string, string>();

  async getScene(id: string): Promise<SceneData | null> {
    const scene = this.scenes.get(id);
    return scene ? clone(scene) : null;
  }

  async listScenes(filter: SceneFilter, first: number, after: string | null): Promise<ScenePage> {
    const visible = (s: SceneData) =>
      s.visibility === Visibility.PUBLIC ||
      (filter.viewerId !== null && (s.ownerId === filter.viewerId || this.roleIn(s.id, filter.viewerId) !== null));
    const sorted = [...this.scenes.values()]
      .filter(visible)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    const [createdAt, id] = after ? decodeCursor(after) : ['\uffff', '\uffff'];
    const rest = sorted.filter((s) => s.createdAt < createdAt || (s.createdAt === createdAt && s.id < id));
    const page = rest.slice(0, first);
    const last = page[page.length - 1];
    return {
      scenes: page.map(clone),
      total: sorted.length,
      nextCursor: rest.length > first && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async createScene(scene: SceneData, events: SceneEventData[]): Promise<StoredEvent[]> {
    if (this.scenes.has(scene.id)) throw new Error(`scene ${scene.id} exists`);
    this.scenes.set(scene.id, clone(scene));
    this.events.set(scene.id, []);
    return this.append(scene.id, scene.revision, events, scene.createdAt);
  }

  async commit({ scene, expectedRevision, events, history }: SceneCommit): Promise<StoredEvent[] | null> {
    const current = this.scenes.get(scene.id);
    if (!current || current.revision !== expectedRevision) return null;
    this.scenes.set(scene.id, clone(scene));
    if (history) this.pushHistory(scene.id, history);
    return this.append(scene.id, scene.revision, events, scene.updatedAt);
  }

  async appendEvents(sceneId: string, revision: number, events: SceneEventData[]): Promise<StoredEvent[]> {
    if (!this.scenes.has(sceneId)) return [];
    return this.append(sceneId, revision, events, new Date().toISOString());
  }

  private append(sceneId: string, revision: number, events: SceneEventData[], at: string): StoredEvent[] {
    let seq = this.seqs.get(sceneId) ?? 0;
    const log = this.events.get(sceneId) ?? [];
    const stored = events.map((event) => ({ ...clone(event), seq: ++seq, sceneId, revision, at }) as StoredEvent);
    log.push(...stored);
    this.events.set(sceneId, log);
    this.seqs.set(sceneId, seq);
    return stored.map(clone);
  }

  async readEvents(sceneId: string, after: number, limit: number): Promise<StoredEvent[]> {
    return (this.events.get(sceneId) ?? [])
      .filter((e) => e.seq > after)
      .slice(0, limit)
      .map(clone);
  }

  async lastSeq(sceneId: string): Promise<number> {
    return this.seqs.get(sceneId) ?? 0;
  }

  async deleteScene(id: string, events: SceneEventData[]): Promise<StoredEvent[]> {
    const scene = this.scenes.get(id);
    const stored = scene ? this.append(id, scene.revision, events, new Date().toISOString()) : [];
    this.scenes.delete(id);
    this.events.delete(id);
    this.history.delete(id);
    this.seqs.delete(id);
    this.rendering.delete(id);
    this.memberships.delete(id);
    this.inviteList.splice(0, this.inviteList.length, ...this.inviteList.filter((i) => i.sceneId !== id));
    return stored;
  }

  private pushHistory(sceneId: string, entry: HistoryEntry): void {
    const list = (this.history.get(sceneId) ?? []).filter((e) => !(e.actorId === entry.actorId && e.undone));
    list.push({ ...clone(entry), id: this.nextHistoryId++, undone: false });
    // Keep each actor's history bounded like the other stores: the newest 200 entries.
    const mine = list.filter((e) => e.actorId === entry.actorId);
    const drop = new Set(mine.slice(0, Math.max(0, mine.length - 200)));
    this.history.set(sceneId, drop.size ? list.filter((e) => !drop.has(e)) : list);
  }

  async takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): Promise<HistoryEntry | null> {
    const mine = (this.history.get(sceneId) ?? []).filter((e) => e.actorId === actorId);
    const entry = direction === 'undo' ? mine.filter((e) => !e.undone).at(-1) : mine.find((e) => e.undone);
    if (!entry) return null;
    entry.undone = direction === 'undo';
    const { undone: _undone, ...rest } = entry;
    return clone(rest);
  }

  async historyState(sceneId: string, actorId: string): Promise<{ undo: boolean; redo: boolean }> {
    const mine = (this.history.get(sceneId) ?? []).filter((e) => e.actorId === actorId);
    return { undo: mine.some((e) => !e.undone), redo: mine.some((e) => e.undone) };
  }

  async restoreHistory(sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): Promise<void> {
    const found = (this.history.get(sceneId) ?? []).find((e) => e.id === entry.id);
    if (found) found.undone = direction !== 'undo';
  }

  async framesForKeys(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.frames.get(key) ?? null);
  }

  async setRendering(sceneId: string, rendering: boolean): Promise<void> {
    if (rendering && this.scenes.has(sceneId)) this.rendering.add(sceneId);
    else this.rendering.delete(sceneId);
  }

  async renderingScenes(limit: number): Promise<string[]> {
    return [...this.rendering].slice(0, limit);
  }

  async forgetFrames(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.frames.delete(key);
  }

  async setFrameForKey(key: string, frameId: string): Promise<void> {
    this.frames.set(key, frameId);
  }

  async saveUser(user: UserData): Promise<void> {
    this.users.set(user.id, { ...user });
  }

  async getUser(id: string): Promise<UserData | null> {
    const user = this.users.get(id);
    return user ? { ...user } : null;
  }

  async memberRole(sceneId: string, userId: string): Promise<Role | null> {
    return this.roleIn(sceneId, userId);
  }

  private roleIn(sceneId: string, userId: string): Role | null {
    return this.memberships.get(sceneId)?.find((m) => m.userId === userId)?.role ?? null;
  }

  async members(sceneId: string): Promise<MemberRecord[]> {
    return (this.memberships.get(sceneId) ?? []).map((m) => ({ ...m }));
  }

  async setMember(sceneId: string, userId: string, role: Role): Promise<void> {
    const list = this.memberships.get(sceneId) ?? [];
    const existing = list.find((m) => m.userId === userId);
    if (existing) existing.role = role;
    else list.push({ userId, role });
    this.memberships.set(sceneId, list);
  }

  async removeMember(sceneId: string, userId: string): Promise<boolean> {
    const list = this.memberships.get(sceneId) ?? [];
    const index = list.findIndex((m) => m.userId === userId);
    if (index >= 0) list.splice(index, 1);
    return index >= 0;
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    this.inviteList.push({ ...invite });
  }

  async invites(sceneId: string): Promise<InviteRecord[]> {
    return this.inviteList.filter((i) => i.sceneId === sceneId).map((i) => ({ ...i }));
  }

  async findInvite(token: string): Promise<InviteRecord | null> {
    const invite = this.inviteList.find((i) => i.token === token);
    return invite ? { ...invite } : null;
  }

  async revokeInvite(sceneId: string, id: string): Promise<boolean> {
    const index = this.inviteList.findIndex((i) => i.sceneId === sceneId && i.id === id);
    if (index >= 0) this.inviteList.splice(index, 1);
    return index >= 0;
  }

  async createApiToken(token: ApiTokenRecord): Promise<void> {
    this.tokens.push({ ...token });
  }

  async findApiToken(hash: string): Promise<ApiTokenRecord | null> {
    const token = this.tokens.find((t) => t.hash === hash);
    return token ? { ...token } : null;
  }

  async apiTokens(userId: string): Promise<ApiTokenRecord[]> {
    return this.tokens.filter((t) => t.userId === userId).map((t) => ({ ...t }));
  }

  async revokeApiToken(userId: string, id: string): Promise<boolean> {
    const index = this.tokens.findIndex((t) => t.userId === userId && t.id === id);
    if (index >= 0) this.tokens.splice(index, 1);
    return index >= 0;
  }

  async touchApiToken(id: string, at: string): Promise<void> {
    const token = this.tokens.find((t) => t.id === id);
    if (token) token.lastUsedAt = at;
  }

  async revokeSession(id: string, expiresAt: string): Promise<void> {
    const now = new Date().toISOString();
    for (const [key, until] of this.revokedSessions) if (until < now) this.revokedSessions.delete(key);
    this.revokedSessions.set(id, expiresAt);
  }

  async sessionRevoked(id: string): Promise<boolean> {
    const until = this.revokedSessions.get(id);
    return until !== undefined && until >= new Date().toISOString();
  }

  async close(): Promise<void> {}
}
