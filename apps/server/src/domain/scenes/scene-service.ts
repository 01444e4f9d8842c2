import { randomUUID } from 'node:crypto';
import { ErrorCode, Visibility } from '@strata/schema';
import { sha256 } from '../../lib/hash.js';
import { randomSeed } from '../../lib/noise.js';
import { badInput, DomainError, notFound } from '../errors.js';
import type { Limits } from './limits.js';
import { decodeMaskUpload, maskToPng, presetLabel, type MaskUpload } from '../rendering/mask.js';
import type { ModelSpec } from '../rendering/model.js';
import type { AccessStore, BlobStore, Clock, EventBus, MemberRecord, SceneStore, ScenePage } from '../ports.js';
import { Lru } from '../lru.js';
import { requireRole, requireUser, roleOf, type Actor, type Need } from '../identity/identity.js';
import type { Role } from '@strata/schema';
import type { RenderCoordinator } from '../rendering/render-coordinator.js';
import * as ops from './scene-ops.js';
import { copyTitle, parseDocument, toDocument } from './document.js';
import type { BoxData, LayerData, ObjectData, SceneData, SceneEventData, ShapeData } from './types.js';
import { checkBox, checkCategory, checkIndex, checkLayerCount, checkSeed, checkStyle, checkTitle } from './validate.js';

export type { Actor } from '../identity/identity.js';

/** Input shapes the domain accepts (the GraphQL input classes satisfy them). */
export interface ShapeSpecInput {
  kind: 'GENERATED' | 'PRESET' | 'DRAWN';
  seed?: number | null;
  preset?: string | null;
  mask?: MaskUpload | null;
}
export interface ObjectInput {
  category?: string | null;
  box?: BoxData | null;
  shape?: ShapeSpecInput | null;
  appearanceSeed?: number | null;
}
export interface EditTarget {
  sceneId: string;
  baseRevision?: number | null;
}

/** What a change did, for the event and the undo history. */
interface Change {
  change: string;
  layerId: string | null;
  history: boolean;
}

/** How often an edit is applied again after losing a revision race to another edit. */
const MAX_EDIT_ATTEMPTS = 20;

/**
 * The scene domain: validates edits, applies them as new revisions, records the undo history,
 * appends and publishes events, and asks the coordinator to render what changed. Edits from any
 * number of processes are serialised by the store's revision check (see `edit`).
 */
export class SceneService {
  constructor(
    private readonly deps: {
      model: ModelSpec;
      limits: Limits;
      store: SceneStore;
      access: AccessStore;
      blobs: BlobStore;
      bus: EventBus;
      coordinator: RenderCoordinator;
      clock: Clock;
    },
  ) {}

  /** A scene the actor may see (NOT_FOUND otherwise, also for scenes that exist but are hidden). */
  async get(actor: Actor, id: string, field = 'id', need: Need = 'view'): Promise<SceneData> {
    const scene = await this.deps.store.getScene(id);
    if (!scene) throw notFound('scene', id, field);
    requireRole(actor, scene, await this.roleOf(actor, scene), need, field);
    return scene;
  }

  /** A scene without any access check, for callers that proved access otherwise (an invitation). */
  async unchecked(id: string, field: string): Promise<SceneData> {
    const scene = await this.deps.store.getScene(id);
    if (!scene) throw notFound('scene', id, field);
    return scene;
  }

  /** The actor's role in a scene, or null when it is hidden from them. */
  async roleOf(actor: Actor, scene: SceneData): Promise<Role | null> {
    if (actor.id && scene.ownerId === actor.id) return roleOf(scene, actor.id, null);
    return roleOf(scene, actor.id, actor.id ? await this.deps.access.memberRole(scene.id, actor.id) : null);
  }

  /**
   * The actor's role in `scene` as of the event `seq` (NOT_FOUND when it is hidden from them): the
   * scene's members are read once per event and shared by every caller asking about it.
   */
  async requireRoleAt(actor: Actor, scene: SceneData, seq: number): Promise<Role> {
    let memberRole: Role | null = null;
    if (actor.id && scene.ownerId !== actor.id) {
      const key = `${scene.id}@${seq}`;
      let members = this.membersAt.get(key);
      if (!members) {
        members = this.deps.access.members(scene.id);
        this.membersAt.set(key, members);
        members.catch(() => this.membersAt.delete(key));
      }
      memberRole = (await members).find((m) => m.userId === actor.id)?.role ?? null;
    }
    return requireRole(actor, scene, roleOf(scene, actor.id, memberRole), 'view', 'sceneId');
  }

  /** Members of scenes as of an event, shared by the streams that re-check access on it. */
  private readonly membersAt = new Lru<string, Promise<MemberRecord[]>>(256);

  async list(actor: Actor, first: number, after: string | null): Promise<ScenePage> {
    if (!Number.isInteger(first) || first < 1 || first > this.deps.limits.maxPageSize) {
      throw badInput('first', `must be an integer from 1 to ${this.deps.limits.maxPageSize}`);
    }
    return this.deps.store.listScenes({ viewerId: actor.id }, first, after);
  }

  async create(
    actor: Actor,
    input: { title: string; style?: string | null; seed?: number | null; visibility?: Visibility | null },
  ): Promise<SceneData> {
    requireUser(actor);
    const { model, limits, clock } = this.deps;
    const at = clock.iso();
    const scene: SceneData = {
      id: randomUUID(),
      title: checkTitle(input.title, 'input.title', limits),
      ownerId: actor.id,
      visibility: input.visibility ?? Visibility.PRIVATE,
      revision: 1,
      background: {
        style: input.style == null ? model.styles[0]!.id : checkStyle(model, input.style, 'input.style'),
        seed: input.seed == null ? randomSeed() : checkSeed(input.seed, 'input.seed'),
        revision: 1,
      },
      layers: [],
      createdAt: at,
      updatedAt: at,
    };
    return this.insert(actor, scene);
  }

  /** Create a scene from layers already validated (import, duplicate). */
  private async insert(actor: Actor, scene: SceneData): Promise<SceneData> {
    if (actor.user) await this.deps.access.saveUser(actor.user);
    const stored = await this.deps.store.createScene(scene, [await this.changed(actor, scene, 'CREATED', null)]);
    await this.deps.bus.publish(stored);
    await this.deps.coordinator.schedule(scene, null).catch(() => this.deps.store.setRendering(scene.id, true).catch(() => undefined));
    return scene;
  }

  async duplicate(actor: Actor, sceneId: string, title: string | null | undefined): Promise<SceneData> {
    requireUser(actor);
    const source = await this.get(actor, sceneId, 'sceneId');
    const at = this.deps.clock.iso();
    return this.insert(actor, {
      ...source,
      id: randomUUID(),
      title: title == null ? copyTitle(source.title, this.deps.limits.maxTitleLength) : checkTitle(title, 'title', this.deps.limits),
      ownerId: actor.id,
      visibility: Visibility.PRIVATE,
      revision: 1,
      background: { ...source.background, revision: 1 },
      layers: source.layers.map((l) => ({ ...l, id: randomUUID(), revision: 1 })),
      createdAt: at,
      updatedAt: at,
    });
  }

  rename(actor: Actor, sceneId: string, title: string): Promise<SceneData> {
    const clean = checkTitle(title, 'title', this.deps.limits);
    return this.edit(actor, { sceneId }, (scene) => [
      { ...scene, title: clean },
      { change: 'RENAMED', layerId: null, history: true },
    ]);
  }

  setVisibility(actor: Actor, sceneId: string, visibility: Visibility): Promise<SceneData> {
    return this.edit(
      actor,
      { sceneId },
      (scene) => [
        { ...scene, visibility },
        { change: 'VISIBILITY', layerId: null, history: false },
      ],
      true,
      'own',
    );
  }

  async delete(actor: Actor, sceneId: string): Promise<string> {
    await this.get(actor, sceneId, 'sceneId', 'own');
    this.deps.coordinator.cancel(sceneId);
    const stored = await this.deps.store.deleteScene(sceneId, [{ type: 'SceneDeleted', actorId: actor.id }]);
    await this.deps.bus.publish(stored);
    return sceneId;
  }

  setBackground(actor: Actor, target: EditTarget, input: { style?: string | null; seed?: number | null }): Promise<SceneData> {
    const { model } = this.deps;
    return this.edit(actor, target, (scene, revision) => {
      ops.checkBase(target.baseRevision, scene.background.revision, scene.background);
      const background = {
        style: input.style == null ? scene.background.style : checkStyle(model, input.style, 'input.style'),
        seed: input.seed == null ? scene.background.seed : checkSeed(input.seed, 'input.seed'),
        revision,
      };
      return [
        { ...scene, background },
        { change: 'BACKGROUND_SET', layerId: null, history: true },
      ];
    });
  }

  addObject(actor: Actor, target: EditTarget, input: ObjectInput & { index?: number | null }): Promise<SceneData> {
    return this.edit(actor, target, async (scene, revision) => {
      checkLayerCount(scene.layers.length + 1, this.deps.limits);
      if (input.category == null) throw badInput('input.category', 'is required');
      if (input.box == null) throw badInput('input.box', 'is required');
      const object: ObjectData = {
        category: checkCategory(this.deps.model, input.category, 'input.category'),
        box: checkBox(input.box, 'input.box', this.deps.model.resolution),
        shape: await this.shape(input.shape ?? { kind: 'GENERATED' }, 'input.shape'),
        appearanceSeed: input.appearanceSeed == null ? randomSeed() : checkSeed(input.appearanceSeed, 'input.appearanceSeed'),
      };
      const index = input.index == null ? scene.layers.length : checkIndex(input.index, scene.layers.length, 'input.index');
      const layer: LayerData = { id: randomUUID(), object, visible: true, revision };
      return [ops.insertLayer(scene, layer, index), { change: 'OBJECT_ADDED', layerId: layer.id, history: true }];
    });
  }

  updateObject(actor: Actor, target: EditTarget, layerId: string, input: ObjectInput): Promise<SceneData> {
    return this.edit(actor, target, async (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      const patch: Partial<ObjectData> = {};
      if (input.category != null) patch.category = checkCategory(this.deps.model, input.category, 'input.category');
      if (input.box != null) patch.box = checkBox(input.box, 'input.box', this.deps.model.resolution);
      if (input.shape != null) patch.shape = await this.shape(input.shape, 'input.shape');
      if (input.appearanceSeed != null) patch.appearanceSeed = checkSeed(input.appearanceSeed, 'input.appearanceSeed');
      if (Object.keys(patch).length === 0) throw badInput('input', 'change at least one of category, box, shape, appearanceSeed');
      return [ops.replaceLayer(scene, ops.withObject(layer, patch, revision)), { change: 'OBJECT_UPDATED', layerId, history: true }];
    });
  }

  reroll(actor: Actor, target: EditTarget, layerId: string, what: 'APPEARANCE' | 'SHAPE'): Promise<SceneData> {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      const patch: Partial<ObjectData> =
        what === 'SHAPE' ? { shape: { kind: 'GENERATED', seed: randomSeed() } } : { appearanceSeed: randomSeed() };
      return [ops.replaceLayer(scene, ops.withObject(layer, patch, revision)), { change: 'OBJECT_UPDATED', layerId, history: true }];
    });
  }

  removeObject(actor: Actor, target: EditTarget, layerId: string): Promise<SceneData> {
    return this.edit(actor, target, (scene) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      return [ops.removeLayer(scene, layerId), { change: 'OBJECT_REMOVED', layerId, history: true }];
    });
  }

  moveLayer(actor: Actor, target: EditTarget, layerId: string, toIndex: number): Promise<SceneData> {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      checkIndex(toIndex, scene.layers.length - 1, 'toIndex');
      const moved = ops.moveLayer(scene, layerId, toIndex);
      return [ops.replaceLayer(moved, { ...layer, revision }), { change: 'LAYER_MOVED', layerId, history: true }];
    });
  }

  setLayerVisibility(actor: Actor, target: EditTarget, layerId: string, visible: boolean): Promise<SceneData> {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      return [ops.replaceLayer(scene, { ...layer, visible, revision }), { change: 'LAYER_VISIBILITY', layerId, history: true }];
    });
  }

  async rerender(actor: Actor, sceneId: string): Promise<SceneData> {
    const scene = await this.edit(actor, { sceneId }, (s) => [s, { change: 'RERENDER', layerId: null, history: false }], false);
    await this.deps.coordinator.schedule(scene, null, true);
    return scene;
  }

  undo(actor: Actor, sceneId: string): Promise<SceneData> {
    return this.replay(actor, sceneId, 'undo');
  }

  redo(actor: Actor, sceneId: string): Promise<SceneData> {
    return this.replay(actor, sceneId, 'redo');
  }

  /** Import a `strata-scene/1` document: everything in it is validated like an edit. */
  async importDocument(actor: Actor, document: Record<string, unknown>, title: string | null | undefined): Promise<SceneData> {
    requireUser(actor);
    const masks = new Map<string, Uint8Array>();
    const parsed = parseDocument(document, this.deps.model, this.deps.limits, (shape, field) => this.checkShape(shape, field, masks));
    // Drawn masks are stored once the whole document is known to be valid, before the scene names them.
    for (const [hash, png] of masks) await this.deps.blobs.putWithHash(hash, png);
    const at = this.deps.clock.iso();
    return this.insert(actor, {
      id: randomUUID(),
      title: title == null ? parsed.title : checkTitle(title, 'title', this.deps.limits),
      ownerId: actor.id,
      visibility: Visibility.PRIVATE,
      revision: 1,
      background: { ...parsed.background, revision: 1 },
      layers: parsed.layers.map((l) => ({ id: randomUUID(), object: l.object, visible: l.visible, revision: 1 })),
      createdAt: at,
      updatedAt: at,
    });
  }

  /** The scene as a portable document, drawn masks inlined. */
  async exportDocument(scene: SceneData): Promise<Record<string, unknown>> {
    const masks = new Map<string, Uint8Array | null>();
    for (const layer of scene.layers) {
      if (layer.object.shape.kind === 'DRAWN') masks.set(layer.object.shape.maskId, await this.deps.blobs.get(layer.object.shape.maskId));
    }
    return toDocument(scene, this.deps.model, (maskId) => masks.get(maskId) ?? null);
  }

  private async replay(actor: Actor, sceneId: string, direction: 'undo' | 'redo'): Promise<SceneData> {
    const scene = await this.get(actor, sceneId, 'sceneId', 'edit');
    const actorId = actor.id!;
    const entry = await this.deps.store.takeHistory(sceneId, actorId, direction);
    if (!entry)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, `nothing to ${direction}`, {
        field: 'sceneId',
        reason: direction === 'undo' ? 'NOTHING_TO_UNDO' : 'NOTHING_TO_REDO',
      });
    try {
      const source = direction === 'undo' ? entry.before : entry.after;
      return await this.edit(actor, { sceneId }, (current, revision) => [
        ops.restoreTouched(current, source, entry.change, entry.layerId, revision),
        { change: direction === 'undo' ? 'UNDO' : 'REDO', layerId: entry.layerId, history: false },
      ]);
    } catch (error) {
      await this.deps.store.restoreHistory(scene.id, entry, direction);
      throw error;
    }
  }

  /** Record a change that is not part of the scene's specs (members), so streams re-check access. */
  async announce(actor: Actor, scene: SceneData, change: string): Promise<void> {
    await this.deps.bus.publish(
      await this.deps.store.appendEvents(scene.id, scene.revision, [await this.changed(actor, scene, change, null)]),
    );
  }

  /** The event of an accepted edit: the scene as of it, with the frames already rendered then. */
  private async changed(actor: Actor, scene: SceneData, change: string, layerId: string | null): Promise<SceneEventData> {
    return { type: 'SceneChanged', change, layerId, actorId: actor.id, scene, frames: await this.deps.coordinator.frameIds(scene) };
  }

  /** Validate a shape input and store a drawn mask as a blob. */
  private async shape(input: ShapeSpecInput, field: string): Promise<ShapeData> {
    const masks = new Map<string, Uint8Array>();
    const shape = this.checkShape(input, field, masks);
    for (const [hash, png] of masks) await this.deps.blobs.putWithHash(hash, png);
    return shape;
  }

  /** Validate a shape input; a drawn mask is decoded and normalised, its PNG added to `masks` to be stored. */
  private checkShape(input: ShapeSpecInput, field: string, masks: Map<string, Uint8Array>): ShapeData {
    switch (input.kind) {
      case 'GENERATED':
        return { kind: 'GENERATED', seed: input.seed == null ? randomSeed() : checkSeed(input.seed, `${field}.seed`) };
      case 'PRESET':
        if (input.preset == null || !presetLabel(input.preset))
          throw badInput(`${field}.preset`, `unknown preset ${JSON.stringify(input.preset)}`);
        return { kind: 'PRESET', preset: input.preset };
      case 'DRAWN': {
        if (input.mask == null) throw badInput(`${field}.mask`, 'is required for a DRAWN shape');
        const mask = decodeMaskUpload(input.mask, `${field}.mask`, this.deps.limits);
        const png = maskToPng(mask);
        const shape: ShapeData = { kind: 'DRAWN', maskId: sha256(png), width: mask.width, height: mask.height };
        masks.set(shape.maskId, png);
        return shape;
      }
      default:
        throw badInput(`${field}.kind`, 'must be GENERATED, PRESET or DRAWN');
    }
  }

  /**
   * Apply one edit: read, validate and change (in `apply`, which throws to refuse), then commit the
   * new revision with its event and undo entry in one transaction whose condition is the revision
   * read. Another edit committed in between (by any process) makes the commit fail; the edit is then
   * applied again to the newer scene, where a per-layer `baseRevision` check refuses a real conflict.
   * Nothing is written when `apply` throws.
   */
  private async edit(
    actor: Actor,
    target: EditTarget,
    apply: (scene: SceneData, revision: number) => [SceneData, Change] | Promise<[SceneData, Change]>,
    render = true,
    need: Need = 'edit',
  ): Promise<SceneData> {
    return this.serially(target.sceneId, () => this.editOnce(actor, target, apply, render, need));
  }

  /** Edits of one scene from this process, one at a time (they would only race each other). */
  private readonly editing = new Map<string, Promise<unknown>>();
  private serially<T>(sceneId: string, run: () => Promise<T>): Promise<T> {
    const previous = this.editing.get(sceneId) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    this.editing.set(sceneId, settled);
    void settled.then(() => {
      if (this.editing.get(sceneId) === settled) this.editing.delete(sceneId);
    });
    return next;
  }

  private async editOnce(
    actor: Actor,
    target: EditTarget,
    apply: (scene: SceneData, revision: number) => [SceneData, Change] | Promise<[SceneData, Change]>,
    render: boolean,
    need: Need,
  ): Promise<SceneData> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(actor, target.sceneId, 'sceneId', need);
      const revision = current.revision + 1;
      const [changed, change] = await apply(current, revision);
      const next = ops.bump(changed, this.deps.clock.iso());
      const stored = await this.deps.store.commit({
        scene: next,
        expectedRevision: current.revision,
        events: [await this.changed(actor, next, change.change, change.layerId)],
        history: change.history
          ? { actorId: actor.id!, revision: next.revision, before: current, after: next, change: change.change, layerId: change.layerId }
          : null,
      });
      if (!stored) {
        if (attempt < MAX_EDIT_ATTEMPTS) {
          // Another process committed first: back off a little (with jitter) and apply again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 4)));
          continue;
        }
        throw new DomainError(ErrorCode.CONFLICT, 'the scene kept changing while this edit was applied; retry', { field: 'sceneId' });
      }
      await this.deps.bus.publish(stored);
      // The edit is committed and published: a failure to start its render (the database blinked) must not
      // report it as refused. Mark it as rendering so a sweeper starts it.
      if (render)
        await this.deps.coordinator.schedule(next, current).catch(() => this.deps.store.setRendering(next.id, true).catch(() => undefined));
      return next;
    }
  }
}
