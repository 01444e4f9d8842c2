'use client';

import { useRef } from 'react';
import { BoxOverlay } from './BoxOverlay';
import { CanvasView } from './CanvasView';
import { useCanEdit } from './EditorContext';
import { RemotePresence } from './RemotePresence';
import { StreamNotice } from './StreamNotice';
import { usePresenceSender } from './usePresenceSender';
import { useStageDrag } from './useStageDrag';

/** The canvas with its interactive overlay of object boxes, and the others' selections and pointers. */
export function Stage() {
  const overlay = useRef<HTMLDivElement>(null);
  const handlers = useStageDrag(overlay);
  const canEdit = useCanEdit();
  usePresenceSender(overlay);
  return (
    <div className="stage">
      <CanvasView />
      <div
        ref={overlay}
        className="stage-overlay"
        tabIndex={0}
        role="group"
        aria-roledescription="canvas"
        aria-label="Canvas. Drag on an empty area to place an object; drag the selected box to move it, its corners to resize it. Arrow keys move the selected object."
        data-testid="stage"
        {...(canEdit ? handlers : {})}
      >
        <BoxOverlay />
        <RemotePresence />
      </div>
      <StreamNotice />
    </div>
  );
}
