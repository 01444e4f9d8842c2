import { randomUUID } from 'node:crypto';
import { ErrorCode, Visibility } from '@strata/schema';
import { randomSeed } from '../../lib/noise.js';
import { badInput, DomainError, notFound } from '../errors.js';
import type { Limits } from './limits.js';
import { decodeMaskUpload, maskToPng, presetLabel, type MaskUpload } from '../rendering/mask.js';
import type { ModelSpec } from '../rendering/model.js';
import type { AccessStore, BlobStore, Clock, EventBus, SceneStore, ScenePage } from '../ports.js';
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

/**
 * The scene domain: validates edits, applies them as new revisions, records the undo history,
 * appends and publishes events, and asks the coordinator to render what changed. Every edit runs
 * synchronously from read to commit, so edits of one process are serialised by construction.
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
  get(actor: Actor, id: string, field = 'id', need: Need = 'view'): SceneData {
    const scene = this.deps.store.getScene(id);
    if (!scene) throw notFound('scene', id, field);
    requireRole(actor, scene, this.roleOf(actor, scene), need, field);
    return scene;
  }

  /** A scene without any access check, for callers that proved access otherwise (an invitation). */
  unchecked(id: string, field: string): SceneData {
    const scene = this.deps.store.getScene(id);
    if (!scene) throw notFound('scene', id, field);
    return scene;
  }

  /** The actor's role in a scene, or null when it is hidden from them. */
  roleOf(actor: Actor, scene: SceneData): Role | null {
    return roleOf(scene, actor.id, actor.id ? this.deps.access.memberRole(scene.id, actor.id) : null);
  }

  list(actor: Actor, first: number, after: string | null): ScenePage {
    if (!Number.isInteger(first) || first < 1 || first > this.deps.limits.maxPageSize) {
      throw badInput('first', `must be an integer from 1 to ${this.deps.limits.maxPageSize}`);
    }
    return this.deps.store.listScenes({ viewerId: actor.id }, first, after);
  }

  create(actor: Actor, input: { title: string; style?: string | null; seed?: number | null; visibility?: Visibility | null }): SceneData {
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
  private insert(actor: Actor, scene: SceneData): SceneData {
    if (actor.user) this.deps.access.saveUser(actor.user);
    const stored = this.deps.store.createScene(scene, [this.changed(actor, scene, 'CREATED', null)]);
    this.deps.bus.publish(stored);
    this.deps.coordinator.schedule(scene, null);
    return scene;
  }

  duplicate(actor: Actor, sceneId: string, title: string | null | undefined): SceneData {
    requireUser(actor);
    const source = this.get(actor, sceneId, 'sceneId');
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

  rename(actor: Actor, sceneId: string, title: string): SceneData {
    const clean = checkTitle(title, 'title', this.deps.limits);
    return this.edit(actor, { sceneId }, (scene) => [{ ...scene, title: clean }, { change: 'RENAMED', layerId: null, history: true }]);
  }

  setVisibility(actor: Actor, sceneId: string, visibility: Visibility): SceneData {
    return this.edit(actor, { sceneId }, (scene) => [{ ...scene, visibility }, { change: 'VISIBILITY', layerId: null, history: false }], true, 'own');
  }

  delete(actor: Actor, sceneId: string): string {
    this.get(actor, sceneId, 'sceneId', 'own');
    this.deps.coordinator.cancel(sceneId);
    const stored = this.deps.store.deleteScene(sceneId, [{ type: 'SceneDeleted', actorId: actor.id }]);
    this.deps.bus.publish(stored);
    return sceneId;
  }

  setBackground(actor: Actor, target: EditTarget, input: { style?: string | null; seed?: number | null }): SceneData {
    const { model } = this.deps;
    return this.edit(actor, target, (scene, revision) => {
      ops.checkBase(target.baseRevision, scene.background.revision, scene.background);
      const background = {
        style: input.style == null ? scene.background.style : checkStyle(model, input.style, 'input.style'),
        seed: input.seed == null ? scene.background.seed : checkSeed(input.seed, 'input.seed'),
        revision,
      };
      return [{ ...scene, background }, { change: 'BACKGROUND_SET', layerId: null, history: true }];
    });
  }

  addObject(actor: Actor, target: EditTarget, input: ObjectInput & { index?: number | null }): SceneData {
    return this.edit(actor, target, (scene, revision) => {
      checkLayerCount(scene.layers.length + 1, this.deps.limits);
      if (input.category == null) throw badInput('input.category', 'is required');
      if (input.box == null) throw badInput('input.box', 'is required');
      const object: ObjectData = {
        category: checkCategory(this.deps.model, input.category, 'input.category'),
        box: checkBox(input.box, 'input.box', this.deps.model.resolution),
        shape: this.shape(input.shape ?? { kind: 'GENERATED' }, 'input.shape'),
        appearanceSeed: input.appearanceSeed == null ? randomSeed() : checkSeed(input.appearanceSeed, 'input.appearanceSeed'),
      };
      const index = input.index == null ? scene.layers.length : checkIndex(input.index, scene.layers.length, 'input.index');
      const layer: LayerData = { id: randomUUID(), object, visible: true, revision };
      return [ops.insertLayer(scene, layer, index), { change: 'OBJECT_ADDED', layerId: layer.id, history: true }];
    });
  }

  updateObject(actor: Actor, target: EditTarget, layerId: string, input: ObjectInput): SceneData {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      const patch: Partial<ObjectData> = {};
      if (input.category != null) patch.category = checkCategory(this.deps.model, input.category, 'input.category');
      if (input.box != null) patch.box = checkBox(input.box, 'input.box', this.deps.model.resolution);
      if (input.shape != null) patch.shape = this.shape(input.shape, 'input.shape');
      if (input.appearanceSeed != null) patch.appearanceSeed = checkSeed(input.appearanceSeed, 'input.appearanceSeed');
      if (Object.keys(patch).length === 0) throw badInput('input', 'change at least one of category, box, shape, appearanceSeed');
      return [ops.replaceLayer(scene, ops.withObject(layer, patch, revision)), { change: 'OBJECT_UPDATED', layerId, history: true }];
    });
  }

  reroll(actor: Actor, target: EditTarget, layerId: string, what: 'APPEARANCE' | 'SHAPE'): SceneData {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      const patch: Partial<ObjectData> = what === 'SHAPE' ? { shape: { kind: 'GENERATED', seed: randomSeed() } } : { appearanceSeed: randomSeed() };
      return [ops.replaceLayer(scene, ops.withObject(layer, patch, revision)), { change: 'OBJECT_UPDATED', layerId, history: true }];
    });
  }

  removeObject(actor: Actor, target: EditTarget, layerId: string): SceneData {
    return this.edit(actor, target, (scene) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      return [ops.removeLayer(scene, layerId), { change: 'OBJECT_REMOVED', layerId, history: true }];
    });
  }

  moveLayer(actor: Actor, target: EditTarget, layerId: string, toIndex: number): SceneData {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      checkIndex(toIndex, scene.layers.length - 1, 'toIndex');
      const moved = ops.moveLayer(scene, layerId, toIndex);
      return [ops.replaceLayer(moved, { ...layer, revision }), { change: 'LAYER_MOVED', layerId, history: true }];
    });
  }

  setLayerVisibility(actor: Actor, target: EditTarget, layerId: string, visible: boolean): SceneData {
    return this.edit(actor, target, (scene, revision) => {
      const { layer } = ops.findLayer(scene, layerId);
      ops.checkBase(target.baseRevision, layer.revision, layer);
      return [ops.replaceLayer(scene, { ...layer, visible, revision }), { change: 'LAYER_VISIBILITY', layerId, history: true }];
    });
  }

  rerender(actor: Actor, sceneId: string): SceneData {
    const scene = this.edit(actor, { sceneId }, (s) => [s, { change: 'RERENDER', layerId: null, history: false }], false);
    this.deps.coordinator.schedule(scene, null, true);
    return scene;
  }

  undo(actor: Actor, sceneId: string): SceneData {
    return this.replay(actor, sceneId, 'undo');
  }

  redo(actor: Actor, sceneId: string): SceneData {
    return this.replay(actor, sceneId, 'redo');
  }

  /** Import a `strata-scene/1` document: everything in it is validated like an edit. */
  importDocument(actor: Actor, document: Record<string, unknown>, title: string | null | undefined): SceneData {
    requireUser(actor);
    const parsed = parseDocument(document, this.deps.model, this.deps.limits, (shape, field) => this.shape(shape, field));
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
  exportDocument(scene: SceneData): Record<string, unknown> {
    return toDocument(scene, this.deps.model, (maskId) => this.deps.blobs.get(maskId));
  }

  private replay(actor: Actor, sceneId: string, direction: 'undo' | 'redo'): SceneData {
    const scene = this.get(actor, sceneId, 'sceneId', 'edit');
    const actorId = actor.id!;
    const entry = this.deps.store.takeHistory(sceneId, actorId, direction);
    if (!entry) throw new DomainError(ErrorCode.BAD_USER_INPUT, `nothing to ${direction}`, { field: 'sceneId', reason: direction === 'undo' ? 'NOTHING_TO_UNDO' : 'NOTHING_TO_REDO' });
    try {
      const source = direction === 'undo' ? entry.before : entry.after;
      return this.edit(
        actor,
        { sceneId },
        (current, revision) => [
          ops.restoreTouched(current, source, entry.change, entry.layerId, revision),
          { change: direction === 'undo' ? 'UNDO' : 'REDO', layerId: entry.layerId, history: false },
        ],
      );
    } catch (error) {
      this.deps.store.restoreHistory(scene.id, entry, direction);
      throw error;
    }
  }

  /** Record a change that is not part of the scene's specs (members), so streams re-check access. */
  announce(actor: Actor, scene: SceneData, change: string): void {
    this.deps.bus.publish(this.deps.store.appendEvents(scene.id, scene.revision, [this.changed(actor, scene, change, null)]));
  }

  /** The event of an accepted edit: the scene as of it, with the frames already rendered then. */
  private changed(actor: Actor, scene: SceneData, change: string, layerId: string | null): SceneEventData {
    return { type: 'SceneChanged', change, layerId, actorId: actor.id, scene, frames: this.deps.coordinator.frameIds(scene) };
  }

  /** Validate a shape input; drawn masks are decoded, normalised and stored as blobs. */
  private shape(input: ShapeSpecInput, field: string): ShapeData {
    switch (input.kind) {
      case 'GENERATED':
        return { kind: 'GENERATED', seed: input.seed == null ? randomSeed() : checkSeed(input.seed, `${field}.seed`) };
      case 'PRESET':
        if (input.preset == null || !presetLabel(input.preset)) throw badInput(`${field}.preset`, `unknown preset ${JSON.stringify(input.preset)}`);
        return { kind: 'PRESET', preset: input.preset };
      case 'DRAWN': {
        if (input.mask == null) throw badInput(`${field}.mask`, 'is required for a DRAWN shape');
        const mask = decodeMaskUpload(input.mask, `${field}.mask`, this.deps.limits);
        const maskId = this.deps.blobs.put(maskToPng(mask));
        return { kind: 'DRAWN', maskId, width: mask.width, height: mask.height };
      }
      default:
        throw badInput(`${field}.kind`, 'must be GENERATED, PRESET or DRAWN');
    }
  }

  /**
   * Apply one edit: read, validate and change (in `apply`, which throws to refuse), commit with
   * its event, record history, publish, render. Nothing is written when `apply` throws.
   */
  private edit(
    actor: Actor,
    target: EditTarget,
    apply: (scene: SceneData, revision: number) => [SceneData, Change],
    render = true,
    need: Need = 'edit',
  ): SceneData {
    const current = this.get(actor, target.sceneId, 'sceneId', need);
    const revision = current.revision + 1;
    const [changed, change] = apply(current, revision);
    const next = ops.bump(changed, this.deps.clock.iso());
    const stored = this.deps.store.commit({
      scene: next,
      expectedRevision: current.revision,
      events: [this.changed(actor, next, change.change, change.layerId)],
    });
    if (!stored) throw new DomainError(ErrorCode.CONFLICT, 'the scene changed while this edit was applied; retry', { field: 'sceneId' });
    if (change.history) {
      this.deps.store.pushHistory(next.id, {
        actorId: actor.id!,
        revision: next.revision,
        before: current,
        after: next,
        change: change.change,
        layerId: change.layerId,
      });
    }
    this.deps.bus.publish(stored);
    if (render) this.deps.coordinator.schedule(next, current);
    return next;
  }
}
