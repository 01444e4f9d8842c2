'use client';

import { AddObjectPanel } from './AddObjectPanel';
import { BackgroundPanel } from './BackgroundPanel';
import { EditorNotice } from './EditorNotice';
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
          <Inspector />
          <LayersPanel />
          <AddObjectPanel />
          <BackgroundPanel />
        </aside>
      </div>
    </div>
  );
}
