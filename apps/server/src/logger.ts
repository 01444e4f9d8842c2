import type { Logger } from './domain/rendering/render-coordinator.js';

/** Fields every line has; data fields of these names are kept as `data.<name>` instead of replacing them. */
const RESERVED = new Set(['time', 'level', 'message']);

/** One JSON line: time, level and message first, then the data (never overwriting those three). */
export function logLine(level: string, message: string, data?: Record<string, unknown>, time = new Date().toISOString()): string {
  const entry: Record<string, unknown> = { time, level, message };
  if (data) for (const [key, value] of Object.entries(data)) entry[RESERVED.has(key) ? `data.${key}` : key] = value;
  try {
    return JSON.stringify(entry, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value instanceof Error ? { name: value.name, message: value.message } : value,
    );
  } catch (error) {
    // A cyclic or otherwise unprintable data field: keep the line, say what was lost.
    return JSON.stringify({ time, level, message, 'data.unprintable': String(error) });
  }
}

/** JSON lines on stderr, filtered by level. */
export function createLogger(level: 'info' | 'error' | 'silent'): Logger {
  const write = (lvl: string, message: string, data?: Record<string, unknown>) => process.stderr.write(`${logLine(lvl, message, data)}\n`);
  return {
    info: (message, data) => {
      if (level === 'info') write('info', message, data);
    },
    error: (message, data) => {
      if (level !== 'silent') write('error', message, data);
    },
  };
}
