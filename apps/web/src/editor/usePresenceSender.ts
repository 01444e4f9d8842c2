'use client';

import { useEffect, type RefObject } from 'react';
import { connectionStore } from '@/lib/connection';
import { createThrottle } from '@/lib/presence';
import { useEditor } from './EditorContext';

/** At most this often (about 14 a second); the server throttles what it tells others to 50 ms. */
export const PRESENCE_INTERVAL_MS = 70;

type Point = { x: number; y: number };

const clamp = (v: number) => Math.min(1, Math.max(0, v));

/**
 * Share your selection and your pointer over the canvas with the others in the scene: throttled,
 * latest value wins, `pointer: null` when it leaves the canvas. Listens natively, so a moving
 * pointer re-renders nothing.
 */
export function usePresenceSender(overlay: RefObject<HTMLElement | null>): void {
  const { stores, actions } = useEditor();
  useEffect(() => {
    const element = overlay.current;
    if (!element) return;
    let pointer: Point | null = null;
    let selectedId = stores.ui.getState().selectedId;
    const throttle = createThrottle(actions.sharePresence, PRESENCE_INTERVAL_MS);
    const push = () => {
      if (stores.ui.getState().access === 'lost') return;
      throttle.push({ selectedLayerId: selectedId, pointer });
    };

    const onMove = (event: PointerEvent) => {
      const rect = element.getBoundingClientRect();
      pointer = { x: clamp((event.clientX - rect.left) / rect.width), y: clamp((event.clientY - rect.top) / rect.height) };
      push();
    };
    const onLeave = () => {
      pointer = null;
      push();
    };
    element.addEventListener('pointermove', onMove);
    element.addEventListener('pointerleave', onLeave);
    const unsubscribeUi = stores.ui.subscribe(() => {
      const next = stores.ui.getState().selectedId;
      if (next === selectedId) return;
      selectedId = next;
      push();
    });
    // A resumed stream joins afresh with nothing selected: say again what you have.
    const unsubscribeConnection = connectionStore.subscribe(() => {
      if (connectionStore.getState() === 'live' && (selectedId || pointer)) push();
    });
    if (selectedId) push();
    return () => {
      element.removeEventListener('pointermove', onMove);
      element.removeEventListener('pointerleave', onLeave);
      unsubscribeUi();
      unsubscribeConnection();
      throttle.cancel();
    };
  }, [overlay, stores, actions]);
}
