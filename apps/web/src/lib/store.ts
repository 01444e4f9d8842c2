import { useCallback, useRef, useSyncExternalStore } from 'react';

/** A tiny external store: React components read slices of it without re-rendering the whole tree. */
export interface Store<T> {
  getState(): T;
  setState(next: T): void;
  subscribe(listener: () => void): () => void;
}

/** Create a store holding `initial`. `setState` with the same value notifies nobody. */
export function createStore<T>(initial: T): Store<T> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    setState(next) {
      if (Object.is(next, state)) return;
      state = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Read one slice of a store. The component re-renders only when the slice changes by `isEqual`,
 * so a streamed frame re-renders the row and the canvas it touches, not the editor.
 * `selector` should be stable (module-level or `useCallback`).
 */
export function useStoreSelector<T, S>(store: Store<T>, selector: (state: T) => S, isEqual: (a: S, b: S) => boolean = Object.is): S {
  const cache = useRef<{ state: T; selector: (state: T) => S; value: S } | null>(null);
  const getSnapshot = useCallback((): S => {
    const state = store.getState();
    const last = cache.current;
    if (last && last.state === state && last.selector === selector) return last.value;
    const value = selector(state);
    const kept = last && last.selector === selector && isEqual(last.value, value) ? last.value : value;
    cache.current = { state, selector, value: kept };
    return kept;
  }, [store, selector, isEqual]);
  return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot);
}

/** Element-wise `Object.is` equality of two arrays. */
export function shallowArrayEqual<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => Object.is(item, b[i]));
}
