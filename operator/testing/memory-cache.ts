/** MemoryCache is a Cache over a plain Map for reconciler unit tests. */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Cache } from "../controllers/cache";

/** MemoryCache stores objects by `namespace/name`. */
export class MemoryCache<T extends KubernetesObject> implements Cache<T> {
  private readonly items = new Map<string, T>();

  constructor(initial: T[] = []) {
    initial.forEach((o) => this.put(o));
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
}
