import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Read the signing secret from the configuration, or from (or into) a file in the data directory. */
export function loadSecret(configured: string | null, file: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  if (existsSync(file)) return readFileSync(file);
  const secret = randomBytes(32);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
