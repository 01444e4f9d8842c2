'use client';

import { useCallback } from 'react';
import { others, textColorOn, type PresenceState } from '@/lib/presence';
import { shallowArrayEqual } from '@/lib/store';
import { useLayer, usePresence } from './EditorContext';

interface RemoteSelection {
  userId: string;
  name: string;
  color: string;
  layerId: string;
}

const selectSelections = (state: PresenceState): RemoteSelection[] =>
  others(state).flatMap((p) =>
    p.selectedLayerId ? [{ userId: p.user.id, name: p.user.displayName, color: p.user.color, layerId: p.selectedLayerId }] : [],
  );
const sameSelections = (a: RemoteSelection[], b: RemoteSelection[]) =>
  a.length === b.length &&
  a.every((s, i) => s.userId === b[i]!.userId && s.layerId === b[i]!.layerId && s.name === b[i]!.name && s.color === b[i]!.color);

const selectOtherIds = (state: PresenceState) => others(state).map((p) => p.user.id);

/** A coloured outline, with their name, around the layer someone else has selected. */
function RemoteSelectionBox({ selection }: { selection: RemoteSelection }) {
  const layer = useLayer(selection.layerId);
  if (!layer?.visible) return null;
  const { x, y, w, h } = layer.object.box;
  return (
    <div
      className="remote-selection"
      style={{ left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`, height: `${h * 100}%`, borderColor: selection.color }}
      data-testid="remote-selection"
      data-user-id={selection.userId}
      data-layer-id={selection.layerId}
    >
      <span
        className={y > 0.92 ? 'remote-tag remote-tag-inside' : 'remote-tag'}
        style={{ background: selection.color, color: textColorOn(selection.color) }}
      >
        {selection.name}
      </span>
    </div>
  );
}

/** One person's pointer: re-renders only when it moves (or their name or colour changes). */
function RemotePointer({ userId }: { userId: string }) {
  const select = useCallback(
    (state: PresenceState) => {
      const p = state.participants.find((q) => q.user.id === userId);
      return p?.pointer ? `${p.pointer.x}|${p.pointer.y}|${p.user.color}|${p.user.displayName}` : null;
    },
    [userId],
  );
  // A string slice compares by value, so an unchanged pointer in a new event renders nothing.
  const key = usePresence(select);
  if (!key) return null;
  const [x, y, color, ...name] = key.split('|');
  return (
    <div
      className={Number(x) > 0.7 ? 'remote-pointer remote-pointer-left' : 'remote-pointer'}
      style={{ left: `${Number(x) * 100}%`, top: `${Number(y) * 100}%` }}
      data-testid="remote-pointer"
      data-user-id={userId}
    >
      <svg width="14" height="18" viewBox="0 0 14 18" aria-hidden>
        <path d="M1 1 L1 15 L5 11 L8 17 L10.5 16 L7.5 10 L13 10 Z" fill={color} stroke="#000" strokeOpacity="0.55" strokeWidth="1" />
      </svg>
      <span className="remote-tag" style={{ background: color, color: textColorOn(color!) }}>
        {name.join('|')}
      </span>
    </div>
  );
}

/**
 * Everyone else on the canvas: their selections as coloured outlines, their pointers as arrows with
 * their names. Reads the presence store by selectors, so a moving pointer re-renders one marker.
 */
export function RemotePresence() {
  const selections = usePresence(selectSelections, sameSelections);
  const ids = usePresence(selectOtherIds, shallowArrayEqual);
  return (
    <div className="remote-presence" aria-hidden>
      {selections.map((s) => (
        <RemoteSelectionBox key={s.userId} selection={s} />
      ))}
      {ids.map((id) => (
        <RemotePointer key={id} userId={id} />
      ))}
    </div>
  );
}
