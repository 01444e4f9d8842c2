import type { Logger } from './domain/rendering/render-coordinator.js';

/** JSON lines on stderr, filtered by level. */
export function createLogger(level: 'info' | 'error' | 'silent'): Logger {
  const write = (lvl: string, message: string, data?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...data })}\n`);
  return {
    info: (message, data) => {
      if (level === 'info') write('info', message, data);
    },
    error: (message, data) => {
      if (level !== 'silent') write('error', message, data);
    },
  };
}
