'use client';

import { AddObjectPanel } from './AddObjectPanel';
import { BackgroundPanel } from './BackgroundPanel';
import { EditorNotice } from './EditorNotice';
import { useCanEdit } from './EditorContext';
import { Inspector } from './Inspector';
import { LayersPanel } from './LayersPanel';
import { RenderProgress } from './RenderProgress';
import { Stage } from './Stage';
import { Timeline } from './Timeline';
import { Toolbar } from './Toolbar';
import { useSceneStream } from './useSceneStream';
import { useShortcuts } from './useShortcuts';

/** The workspace: toolbar on top, the canvas with its progress and timeline, the panels beside it. */
export function EditorLayout() {
  useSceneStream();
  useShortcuts();
  const canEdit = useCanEdit();
  return (
    <div className="editor">
      <Toolbar />
      <div className="editor-body">
        <section className="editor-main" aria-label="Canvas">
          <Stage />
          <RenderProgress />
          <Timeline />
          <EditorNotice />
        </section>
        <aside className="editor-side" aria-label="Scene panels">
          {canEdit ? <Inspector /> : <p className="notice">You are watching this scene; only its owner and editors can change it.</p>}
          <LayersPanel />
          {canEdit && <AddObjectPanel />}
          {canEdit && <BackgroundPanel />}
        </aside>
      </div>
    </div>
  );
}
