'use client';

import { useState } from 'react';
import Link from 'next/link';
import { useMutation, type CombinedError } from 'urql';
import { DeleteSceneDocument, DuplicateSceneDocument, type SceneCardFragment } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { FrameImage } from '@/components/FrameImage';
import { toUserError, type UserError } from '@/lib/errors';
import { RenameForm } from './RenameForm';

// deleteScene answers with an id, which the document cache cannot tie to the scene list.
const INVALIDATE_SCENES = { additionalTypenames: ['Scene'] };

/** One scene in the gallery: its latest canvas, title and actions. */
export function SceneCard({ scene }: { scene: SceneCardFragment }) {
  const [renaming, setRenaming] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [, duplicate] = useMutation(DuplicateSceneDocument);
  const [, remove] = useMutation(DeleteSceneDocument);
  const href = `/scenes/${encodeURIComponent(scene.id)}`;
  const layers = scene.layers.length;

  /** Run a gallery action; a refusal shows on the card. */
  async function run(result: Promise<{ error?: CombinedError | undefined }>) {
    setError(null);
    const { error } = await result;
    if (error) setError(toUserError(error));
  }

  return (
    <li className="scene-card" aria-label={scene.title}>
      <Link href={href} className="scene-card-thumb" aria-label={`Open ${scene.title}`} tabIndex={-1}>
        <FrameImage frame={scene.latestFrame} size={160} alt={`Latest canvas of ${scene.title}`} />
      </Link>
      {renaming ? (
        <RenameForm sceneId={scene.id} title={scene.title} onDone={() => setRenaming(false)} />
      ) : (
        <h3 className="scene-card-title">
          <Link href={href}>{scene.title}</Link>
        </h3>
      )}
      <p className="scene-card-meta">
        {layers} {layers === 1 ? 'object' : 'objects'} · {new Date(scene.updatedAt).toLocaleString()}
        {scene.renderState !== 'DONE' && (
          <span className={`pill pill-${scene.renderState.toLowerCase()}`}>{scene.renderState.toLowerCase()}</span>
        )}
      </p>
      <div className="scene-card-actions">
        <button type="button" onClick={() => setRenaming(true)} disabled={renaming}>
          Rename
        </button>
        <button type="button" onClick={() => void run(duplicate({ sceneId: scene.id, title: `${scene.title} (copy)` }))}>
          Duplicate
        </button>
        {confirmingDelete ? (
          <>
            <button type="button" className="danger" onClick={() => void run(remove({ sceneId: scene.id }, INVALIDATE_SCENES))}>
              Confirm delete
            </button>
            <button type="button" onClick={() => setConfirmingDelete(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirmingDelete(true)}>
            Delete
          </button>
        )}
      </div>
      <ErrorNotice error={error} />
    </li>
  );
}
