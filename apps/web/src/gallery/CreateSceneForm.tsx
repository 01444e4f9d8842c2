'use client';

import { useState, type FormEvent } from 'react';
import { useRouter } from 'next/navigation';
import { useMutation } from 'urql';
import { CreateSceneDocument } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toUserError, type UserError } from '@/lib/errors';

/** Title and background style of a new scene; creating it opens the editor. */
export function CreateSceneForm({ styles }: { styles: ReadonlyArray<{ id: string; label: string }> }) {
  const router = useRouter();
  const [title, setTitle] = useState('');
  const [style, setStyle] = useState('');
  const [error, setError] = useState<UserError | null>(null);
  const [{ fetching }, createScene] = useMutation(CreateSceneDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const result = await createScene({ input: { title: title.trim() || 'Untitled scene', style: style || styles[0]?.id } });
    if (result.error) setError(toUserError(result.error));
    else if (result.data) router.push(`/scenes/${encodeURIComponent(result.data.createScene.id)}`);
  }

  return (
    <form className="create-form" onSubmit={submit}>
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={120} placeholder="Evening by the lake" />
      </label>
      <label>
        Background
        <select value={style || styles[0]?.id || ''} onChange={(e) => setStyle(e.target.value)} disabled={!styles.length}>
          {styles.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" disabled={fetching}>
        {fetching ? 'Creating…' : 'Create scene'}
      </button>
      <ErrorNotice error={error} />
    </form>
  );
}
