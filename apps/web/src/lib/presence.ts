import type { ParticipantFieldsFragment, Role } from '@strata/schema/client';

/** Someone in the scene now, as PresenceChanged events describe them. */
export type Participant = ParticipantFieldsFragment;

/** Who is in the scene, and who "you" are (to mark yourself and hide your own pointer). */
export interface PresenceState {
  participants: readonly Participant[];
  meId: string | null;
}

/** Up to two initials of a display name ("Calm Heron" → "CH", "ada" → "A"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const letters = words.length === 1 ? [words[0]!] : [words[0]!, words[words.length - 1]!];
  return letters.map((w) => Array.from(w)[0]!.toUpperCase()).join('');
}

/** Black or white, whichever reads better on the `#rrggbb` background. */
export function textColorOn(hex: string): '#000' | '#fff' {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return '#fff';
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => {
    const c = parseInt(h!, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return luminance > 0.35 ? '#000' : '#fff';
}

const ROLE_WORDS: Record<Role, string> = { OWNER: 'owner', EDITOR: 'editor', VIEWER: 'viewer' };

/** "owner", "editor", "viewer". */
export function roleWord(role: Role): string {
  return ROLE_WORDS[role];
}

/** Everyone but you, in the order the server lists them. */
export function others(state: PresenceState): Participant[] {
  return state.participants.filter((p) => p.user.id !== state.meId);
}

/**
 * Send at most once per `intervalMs`, always ending with the latest value: the first call goes at
 * once, calls within the interval are folded into one trailing send. `flush` sends a pending value now.
 */
export function createThrottle<T>(
  send: (value: T) => void,
  intervalMs: number,
  clock: { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void } = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  },
) {
  let last = -Infinity;
  let pending: { value: T } | null = null;
  let timer: unknown = null;
  const fire = () => {
    timer = null;
    if (!pending) return;
    const { value } = pending;
    pending = null;
    last = clock.now();
    send(value);
  };
  return {
    push(value: T) {
      pending = { value };
      const wait = last + intervalMs - clock.now();
      if (wait <= 0 && timer === null) fire();
      else if (timer === null) timer = clock.setTimeout(fire, Math.max(0, wait));
    },
    cancel() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}
