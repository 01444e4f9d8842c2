'use client';

import { useQuery } from '@urql/next';
import { ModelDocument, ScenesDocument } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { ImportButton } from '@/components/ImportButton';
import { toUserError } from '@/lib/errors';
import { CreateSceneForm } from './CreateSceneForm';
import { SceneCard } from './SceneCard';

const PAGE_SIZE = 100;

/** The caller's scenes, newest first, with a form to start a new one. */
export function Gallery() {
  const [scenes] = useQuery({ query: ScenesDocument, variables: { first: PAGE_SIZE } });
  const [model] = useQuery({ query: ModelDocument });
  const nodes = scenes.data?.scenes.nodes ?? [];
  return (
    <div className="gallery">
      <section className="panel gallery-create" aria-labelledby="create-heading">
        <h1 id="create-heading">New scene</h1>
        <CreateSceneForm styles={model.data?.model.styles ?? []} />
        <ImportButton />
      </section>
      <section aria-labelledby="scenes-heading" aria-busy={scenes.fetching}>
        <h2 id="scenes-heading">Your scenes {scenes.data && <span className="count">({scenes.data.scenes.totalCount})</span>}</h2>
        {scenes.error && <ErrorNotice error={toUserError(scenes.error)} />}
        {!scenes.data && !scenes.error && <p className="status">Loading scenes…</p>}
        {scenes.data && nodes.length === 0 && <p className="status empty">No scenes yet. Give one a title above and start painting.</p>}
        <ul className="scene-grid">
          {nodes.map((scene) => (
            <SceneCard key={scene.id} scene={scene} />
          ))}
        </ul>
      </section>
    </div>
  );
}
