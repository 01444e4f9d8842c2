'use client';

import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { RenameSceneDocument } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toUserError, type UserError } from '@/lib/errors';

/** An inline title editor: Enter saves, Escape cancels. */
export function RenameForm({ sceneId, title, onDone }: { sceneId: string; title: string; onDone: () => void }) {
  const [value, setValue] = useState(title);
  const [error, setError] = useState<UserError | null>(null);
  const [{ fetching }, rename] = useMutation(RenameSceneDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (value.trim() === title) return onDone();
    const result = await rename({ sceneId, title: value.trim() });
    if (result.error) setError(toUserError(result.error));
    else onDone();
  }

  return (
    <form className="rename-form" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && onDone()}>
      <label className="visually-hidden" htmlFor={`rename-${sceneId}`}>
        New title
      </label>
      <input id={`rename-${sceneId}`} value={value} onChange={(e) => setValue(e.target.value)} maxLength={120} autoFocus />
      <button type="submit" disabled={fetching}>
        Save
      </button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
      <ErrorNotice error={error} />
    </form>
  );
}
