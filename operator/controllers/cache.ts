/**
 * Cache is the read side of an informer as reconcilers see it: get by key, list by namespace.
 * Tests hand reconcilers a plain in-memory implementation.
 */
export interface Cache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}
