'use client';

import { Avatar } from '@/components/Avatar';
import { roleWord, type PresenceState } from '@/lib/presence';
import { usePresence } from './EditorContext';

/** At most this many avatars; the rest are counted. */
const SHOWN = 6;

interface Person {
  id: string;
  name: string;
  color: string;
  role: string;
  you: boolean;
}

/** You first, then the others as the server lists them; pointer moves do not change this slice. */
const selectPeople = (state: PresenceState): Person[] => {
  const people = state.participants.map((p) => ({
    id: p.user.id,
    name: p.user.displayName,
    color: p.user.color,
    role: roleWord(p.role),
    you: p.user.id === state.meId,
  }));
  return [...people.filter((p) => p.you), ...people.filter((p) => !p.you)];
};
const samePeople = (a: Person[], b: Person[]) =>
  a.length === b.length &&
  a.every((p, i) => p.id === b[i]!.id && p.name === b[i]!.name && p.color === b[i]!.color && p.role === b[i]!.role);

/** Who is here: an avatar each (initials on their colour), you marked and first. */
export function Participants() {
  const people = usePresence(selectPeople, samePeople);
  if (people.length === 0) return null;
  const hidden = people.length - SHOWN;
  return (
    <ul className="participants" aria-label={`In this scene now: ${people.length}`} data-testid="participants">
      {people.slice(0, SHOWN).map((p) => (
        <li key={p.id} className={p.you ? 'participant is-you' : 'participant'} data-user-id={p.id}>
          <Avatar name={p.name} color={p.color} label={`${p.name}${p.you ? ' (you)' : ''}, ${p.role}`} />
          {p.you && (
            <span className="you-mark" aria-hidden>
              you
            </span>
          )}
        </li>
      ))}
      {hidden > 0 && (
        <li
          className="participant participant-more"
          title={people
            .slice(SHOWN)
            .map((p) => p.name)
            .join(', ')}
        >
          +{hidden}
        </li>
      )}
    </ul>
  );
}
