import { useCallback, useState } from 'react';

/**
 * What the checker's view keeps while it is not in the page: leaving the Checker tab unmounts it,
 * and coming back should find the table as it was (sorted, filtered, scrolled). Kept per owner
 * (the checker's store, which lives as long as the page), each value under its own name.
 */
const kept = new WeakMap<object, Map<string, unknown>>();

/** The value `owner` keeps under `name`, made by `create` the first time it is asked for. */
export function keptFor<T>(owner: object, name: string, create: () => T): T {
  let values = kept.get(owner);
  if (!values) {
    values = new Map();
    kept.set(owner, values);
  }
  if (!values.has(name)) values.set(name, create());
  return values.get(name) as T;
}

/** useState whose value outlives the component: the next mount for the same owner starts from it. */
export function useKeptState<T>(owner: object, name: string, initial: T): [T, (value: T) => void] {
  const box = keptFor(owner, name, () => ({ value: initial }));
  const [value, setValue] = useState(box.value);
  const set = useCallback(
    (next: T) => {
      box.value = next;
      setValue(next);
    },
    [box],
  );
  return [value, set];
}
