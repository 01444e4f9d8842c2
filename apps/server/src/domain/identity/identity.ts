import { ErrorCode, Role, Visibility } from '@strata/schema';
import { DomainError, notFound } from '../errors.js';
import type { SceneData } from '../scenes/types.js';

/** A person: stable id, a name and a colour others see. */
export interface UserData {
  id: string;
  displayName: string;
  color: string;
}

/** Who is asking: a user, or nobody (a viewer without credentials). */
export interface Actor {
  id: string | null;
  user?: UserData | null;
}

/** What a caller needs to do. */
export type Need = 'view' | 'edit' | 'own';

/** The caller's role in a scene, or null when the scene is hidden from them. */
export function roleOf(scene: SceneData, userId: string | null, memberRole: Role | null): Role | null {
  if (userId && scene.ownerId === userId) return Role.OWNER;
  if (memberRole) return memberRole;
  if (scene.visibility !== Visibility.PRIVATE) return Role.VIEWER;
  return null;
}

/**
 * Refuse what the role does not allow. Strangers get NOT_FOUND for a private scene, so they do not
 * even learn that it exists; viewers get FORBIDDEN for edits, anonymous callers UNAUTHENTICATED.
 */
export function requireRole(actor: Actor, scene: SceneData, role: Role | null, need: Need, field = 'sceneId'): Role {
  if (!role) throw notFound('scene', scene.id, field);
  if (need === 'view') return role;
  if (!actor.id) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'sign in (start a session) to change scenes', { field: 'authorization' });
  if (need === 'edit' && role === Role.VIEWER) throw new DomainError(ErrorCode.FORBIDDEN, 'viewers cannot change this scene', { field });
  if (need === 'own' && role !== Role.OWNER) throw new DomainError(ErrorCode.FORBIDDEN, 'only the owner can do this', { field });
  return role;
}

/** Edits that need an identity but no scene (create, import). */
export function requireUser(actor: Actor): string {
  if (!actor.id) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'sign in (start a session) first', { field: 'authorization' });
  return actor.id;
}

const ADJECTIVES = [
  'Amber',
  'Brisk',
  'Calm',
  'Dusky',
  'Eager',
  'Fern',
  'Gentle',
  'Hazel',
  'Ivory',
  'Jolly',
  'Keen',
  'Lunar',
  'Misty',
  'Noble',
  'Olive',
  'Quiet',
  'Rosy',
  'Sunny',
  'Tidal',
  'Vivid',
];
const NOUNS = [
  'Heron',
  'Fox',
  'Otter',
  'Lynx',
  'Finch',
  'Badger',
  'Wren',
  'Hare',
  'Elk',
  'Owl',
  'Marten',
  'Robin',
  'Stoat',
  'Crane',
  'Vole',
  'Lark',
];
const COLORS = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#9a6324',
  '#469990',
  '#800000',
  '#808000',
  '#000075',
];

/** A friendly random name and colour for a new guest. */
export function guestProfile(random: () => number = Math.random): { displayName: string; color: string } {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  return { displayName: `${pick(ADJECTIVES)} ${pick(NOUNS)}`, color: pick(COLORS) };
}

const COLOR = /^#[0-9a-f]{6}$/i;

export function checkDisplayName(value: string, field: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 40)
    throw new DomainError(ErrorCode.BAD_USER_INPUT, `${field}: must be 1 to 40 characters`, { field });
  return name;
}

export function checkColor(value: string, field: string): string {
  if (!COLOR.test(value)) throw new DomainError(ErrorCode.BAD_USER_INPUT, `${field}: must be a colour like #3a7bd5`, { field });
  return value.toLowerCase();
}
