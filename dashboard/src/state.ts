import { useEffect, useState } from 'preact/hooks';

/** A value views can watch: set() notifies the subscribers; useValue() re-renders on change. */
export interface Value<T> {
  get(): T;
  set(next: T): void;
  subscribe(fn: () => void): () => void;
}

export function value<T>(initial: T): Value<T> {
  let current = initial;
  const subs = new Set<() => void>();
  return {
    get: () => current,
    set(next) {
      if (Object.is(next, current)) return;
      current = next;
      for (const fn of subs) fn();
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

/** Re-renders the component when the watched value (or a subscribable's version) changes. */
export function useValue<T>(v: Value<T>): T {
  const [, bump] = useState(0);
  useEffect(() => v.subscribe(() => bump((n) => n + 1)), [v]);
  return v.get();
}
