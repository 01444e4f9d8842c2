import { afterEach, vi } from 'vitest';

/** A test that prints console.error fails: errors must be asserted, not logged and ignored. */
const errors: unknown[][] = [];
vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
  errors.push(args);
});
afterEach(() => {
  if (errors.length) {
    const printed = errors.splice(0).map((a) => a.map(String).join(' '));
    throw new Error(`console.error was called:\n${printed.join('\n')}`);
  }
});
