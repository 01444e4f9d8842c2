'use client';

import Link from 'next/link';
import type { EditorUi } from './editorStore';
import { AddObjectPanel } from './AddObjectPanel';
import { BackgroundPanel } from './BackgroundPanel';
import { EditorNotice } from './EditorNotice';
import { useCanEdit, useUi } from './EditorContext';
import { Inspector } from './Inspector';
import { LayersPanel } from './LayersPanel';
import { RenderProgress } from './RenderProgress';
import { Stage } from './Stage';
import { Timeline } from './Timeline';
import { Toolbar } from './Toolbar';
import { useSceneStream } from './useSceneStream';
import { useShortcuts } from './useShortcuts';

/** The workspace: toolbar on top, the canvas with its progress and timeline, the panels beside it. */
const selectLostAccess = (ui: EditorUi) => ui.access === 'lost';

export function EditorLayout() {
  useSceneStream();
  useShortcuts();
  const canEdit = useCanEdit();
  const lost = useUi(selectLostAccess);
  if (lost) return <NoAccess />;
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

/** The stream ended with NOT_FOUND: the owner removed you, or made the scene private. */
function NoAccess() {
  return (
    <div className="editor-failed no-access" role="alert" data-testid="no-access">
      <h1>You no longer have access to this scene</h1>
      <p>Its owner removed you or made it private. Ask them for a new invitation link to come back.</p>
      <Link href="/">Back to your scenes</Link>
    </div>
  );
}
