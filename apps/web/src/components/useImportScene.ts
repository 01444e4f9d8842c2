'use client';

import { useCallback, useState } from 'react';
import { useRouter } from 'next/navigation';
import { useMutation } from 'urql';
import { ImportSceneDocument } from '@strata/schema/client';
import { ClientErrorCode, toUserError, userError, type UserError } from '@/lib/errors';

/** Import a scene document (a `.json` file from "Export JSON") and open the new scene. */
export function useImportScene(): { importFile: (file: File) => Promise<void>; importing: boolean; error: UserError | null } {
  const router = useRouter();
  const [{ fetching }, importScene] = useMutation(ImportSceneDocument);
  const [error, setError] = useState<UserError | null>(null);
  const importFile = useCallback(
    async (file: File) => {
      setError(null);
      let document: unknown;
      try {
        document = JSON.parse(await file.text());
      } catch {
        document = null;
      }
      if (!document || typeof document !== 'object' || Array.isArray(document)) {
        setError(userError(ClientErrorCode.BAD_FILE));
        return;
      }
      const result = await importScene({ document: document as Record<string, unknown> });
      if (result.error) setError(toUserError(result.error));
      else if (result.data) router.push(`/scenes/${encodeURIComponent(result.data.importScene.id)}`);
    },
    [importScene, router],
  );
  return { importFile, importing: fetching, error };
}
