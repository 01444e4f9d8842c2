'use client';

import Link from 'next/link';
import { ErrorNotice } from '@/components/ErrorNotice';
import { EditorProvider } from './EditorContext';
import { EditorLayout } from './EditorLayout';
import { useEditorLoad } from './useEditorLoad';

/** The editor of one scene: loading and failure states, then the workspace. */
export function Editor({ sceneId }: { sceneId: string }) {
  const load = useEditorLoad(sceneId);
  switch (load.state) {
    case 'loading':
      return (
        <p className="status" role="status">
          Loading the scene…
        </p>
      );
    case 'failed':
      return (
        <div className="editor-failed">
          <ErrorNotice error={load.error} />
          <Link href="/">Back to your scenes</Link>
        </div>
      );
    case 'ready':
      return (
        <EditorProvider key={load.scene.id} scene={load.scene} model={load.model} me={load.me}>
          <EditorLayout />
        </EditorProvider>
      );
  }
}
