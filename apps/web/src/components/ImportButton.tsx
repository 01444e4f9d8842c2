'use client';

import { useId, useRef } from 'react';
import { useImportScene } from './useImportScene';
import { ErrorNotice } from './ErrorNotice';

/** "Import JSON": pick a scene document and open it as a new scene. */
export function ImportButton() {
  const { importFile, importing, error } = useImportScene();
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  return (
    <span className="import-button">
      <button type="button" onClick={() => input.current?.click()} disabled={importing}>
        {importing ? 'Importing…' : 'Import JSON'}
      </button>
      <input
        id={id}
        ref={input}
        type="file"
        accept="application/json,.json"
        className="visually-hidden"
        aria-label="Scene JSON file to import"
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) void importFile(file);
        }}
      />
      <ErrorNotice error={error} />
    </span>
  );
}
