import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, Role } from '@strata/schema';
import { badInput, DomainError } from '../errors.js';
import { requireUser, type Actor } from './identity.js';
import type { AccessStore, Clock, InviteRecord, PresenceBoard } from '../ports.js';
import type { SceneService } from '../scenes/scene-service.js';
import type { SceneData } from '../scenes/types.js';

const RANK: Record<Role, number> = { VIEWER: 1, EDITOR: 2, OWNER: 3 };

/** Invitations by link, members and their removal. Only the owner shares; anyone with a link joins. */
export class SharingService {
  constructor(private readonly deps: { scenes: SceneService; access: AccessStore; presence: PresenceBoard; clock: Clock }) {}

  async invites(actor: Actor, sceneId: string): Promise<InviteRecord[]> {
    await this.deps.scenes.get(actor, sceneId, 'sceneId', 'own');
    return this.deps.access.invites(sceneId);
  }

  async createInvite(actor: Actor, sceneId: string, role: Role): Promise<InviteRecord> {
    await this.deps.scenes.get(actor, sceneId, 'sceneId', 'own');
    if (role === Role.OWNER) throw badInput('role', 'an invitation grants EDITOR or VIEWER');
    if ((await this.deps.access.invites(sceneId)).length >= 20)
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, 'at most 20 open invitations per scene', { field: 'sceneId', limit: 20 });
    const invite: InviteRecord = {
      id: randomUUID(),
      sceneId,
      role,
      token: randomBytes(18).toString('base64url'),
      createdAt: this.deps.clock.iso(),
    };
    await this.deps.access.createInvite(invite);
    return invite;
  }

  async revokeInvite(actor: Actor, sceneId: string, inviteId: string): Promise<string> {
    await this.deps.scenes.get(actor, sceneId, 'sceneId', 'own');
    if (!(await this.deps.access.revokeInvite(sceneId, inviteId)))
      throw new DomainError(ErrorCode.NOT_FOUND, `invite ${JSON.stringify(inviteId)} not found`, { field: 'inviteId' });
    return inviteId;
  }

  /** Join through a link. A member keeps the higher of their role and the invite's. */
  async acceptInvite(actor: Actor, token: string): Promise<SceneData> {
    const userId = requireUser(actor);
    const invite = await this.deps.access.findInvite(token);
    if (!invite) throw new DomainError(ErrorCode.NOT_FOUND, 'this invitation does not exist or was revoked', { field: 'token' });
    const current = await this.deps.access.memberRole(invite.sceneId, userId);
    const data = await this.sceneOf(invite.sceneId);
    const isOwner = data.ownerId === userId;
    if (!isOwner && (!current || RANK[invite.role] > RANK[current])) {
      if (actor.user) await this.deps.access.saveUser(actor.user);
      await this.deps.access.setMember(invite.sceneId, userId, invite.role);
      await this.deps.scenes.announce(actor, data, 'MEMBERS');
    }
    return data;
  }

  /** Remove a member; their open streams end at the next event, which this sends. */
  async removeMember(actor: Actor, sceneId: string, userId: string): Promise<SceneData> {
    const scene = await this.deps.scenes.get(actor, sceneId, 'sceneId', 'own');
    if (!(await this.deps.access.removeMember(sceneId, userId)))
      throw new DomainError(ErrorCode.NOT_FOUND, `user ${JSON.stringify(userId)} is not a member`, { field: 'userId' });
    await this.deps.presence.evict(sceneId, userId);
    await this.deps.scenes.announce(actor, scene, 'MEMBERS');
    return scene;
  }

  /** The invite proves access: read the scene without the caller's role. */
  private sceneOf(sceneId: string): Promise<SceneData> {
    return this.deps.scenes.unchecked(sceneId, 'token');
  }
}
