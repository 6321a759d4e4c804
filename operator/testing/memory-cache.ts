/** MemoryCache is a Source over a plain Map for reconciler unit tests. */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { WatchEventType } from "../kube/informer";
import type { Source } from "../kube/manager";

/**
 * MemoryCache stores objects by `namespace/name`; indexes are computed on demand; put and delete
 * report ADDED, MODIFIED and DELETED to the handlers, as an informer would.
 */
export class MemoryCache<T extends KubernetesObject> implements Source<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: ((type: WatchEventType, obj: T) => void)[] = [];
  private readonly indexers = new Map<string, (obj: T) => string | undefined>();

  constructor(
    initial: T[] = [],
    indexes: { name: string; fn: (obj: T) => string | undefined }[] = [],
  ) {
    initial.forEach((o) => this.put(o));
    indexes.forEach((i) => this.indexers.set(i.name, i.fn));
  }

  put(obj: T): void {
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
    const type = this.items.has(key) ? "MODIFIED" : "ADDED";
    this.items.set(key, obj);
    for (const h of this.handlers) h(type, obj);
  }

  delete(key: string): void {
    const obj = this.items.get(key);
    this.items.delete(key);
    if (obj) for (const h of this.handlers) h("DELETED", obj);
  }

  on(handler: (type: WatchEventType, obj: T) => void): void {
    this.handlers.push(handler);
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
