/** MemoryCache is a Cache over a plain Map for reconciler unit tests. */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Cache } from "../controllers/cache";

/** MemoryCache stores objects by `namespace/name`; indexes are computed on demand. */
export class MemoryCache<T extends KubernetesObject> implements Cache<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, (obj: T) => string | undefined>();

  constructor(
    initial: T[] = [],
    indexes: { name: string; fn: (obj: T) => string | undefined }[] = [],
  ) {
    initial.forEach((o) => this.put(o));
    indexes.forEach((i) => this.indexers.set(i.name, i.fn));
  }

  put(obj: T): void {
    this.items.set(`${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`, obj);
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }

  byIndex(name: string, value: string): T[] {
    const fn = this.indexers.get(name);
    if (!fn) throw new Error(`no index ${name}`);
    return [...this.items.values()].filter((o) => fn(o) === value);
  }
}
