/**
 * Informer is a supervised list-then-watch cache of one resource. Unlike the operator framework's
 * watch (which exits the process on any watch error) and client-node's ListWatch (which stops on
 * errors and can reject unhandled), it never gives up: every failure relists after an exponential
 * backoff, a watch is re-opened from the last resourceVersion when the server ends it, 410 Gone
 * relists, and a watch silent for longer than `maxIdleMs` is treated as a dead connection.
 * Relisting diffs against the cache, so handlers see adds, updates and deletes they missed.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../clock";

/** WatchEventType is the kind of change an informer reports. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** ListPage is one page of a LIST response. */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continueToken?: string;
}

/** WatchHandle is an open watch; abort ends it without calling `done`. */
export interface WatchHandle {
  abort(): void;
}

/** ResourceSource is the narrow port an informer needs: paged LIST and WATCH from a version. */
export interface ResourceSource<T> {
  describe: string;
  list(continueToken: string | undefined): Promise<ListPage<T>>;
  watch(
    resourceVersion: string,
    onEvent: (type: string, obj: T) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

/** InformerOptions configures an Informer. */
export interface InformerOptions<T = KubernetesObject> {
  clock: Clock;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** A watch with no event (bookmarks count) for this long is restarted. */
  maxIdleMs?: number;
  onError?: (err: unknown, retryInMs: number) => void;
  /** transform trims each object before it is cached (memory), e.g. dropping managedFields. */
  transform?: (obj: T) => T;
}

/** putChunk is how many listed objects are cached between two turns of the event loop. */
const putChunk = 500;

function keyOf(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ""}` : (obj.metadata?.name ?? "");
}

function statusOf(err: unknown): number | undefined {
  if (err && typeof err === "object") {
    const e = err as { statusCode?: number; code?: number };
    return e.statusCode ?? (typeof e.code === "number" ? e.code : undefined);
  }
  return undefined;
}

/** Informer keeps a cache of one resource current and reports every change to its handlers. */
export class Informer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers: ((type: WatchEventType, obj: T) => void)[] = [];
  private readonly indexers = new Map<string, (obj: T) => string | undefined>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private resourceVersion = "";
  private watchHandle?: WatchHandle;
  private idleTimer?: { cancel(): void };
  private retryTimer?: { cancel(): void };
  private failures = 0;
  private stopped = true;
  private generation = 0;
  private syncedOnce = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly source: ResourceSource<T>,
    private readonly opts: InformerOptions<T>,
  ) {}

  /** on registers a change handler; handlers must only enqueue keys, never throw. */
  on(handler: (type: WatchEventType, obj: T) => void): void {
    this.handlers.push(handler);
  }

  /** start lists and watches in the background; use waitForSync to wait for the first list. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.relist();
  }

  /** stop ends the watch and every timer. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    this.idleTimer?.cancel();
    this.retryTimer?.cancel();
  }

  /** synced is true once the first full list is in the cache. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  /** waitForSync resolves after the first successful list. */
  waitForSync(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * addIndex maintains a secondary index, e.g. Secrets by the pod they belong to. Add indexes
   * before start.
   */
  addIndex(name: string, fn: (obj: T) => string | undefined): void {
    this.indexers.set(name, fn);
    this.indexes.set(name, new Map());
  }

  /** byIndex returns the cached objects whose index `name` has `value`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.cache.get(k)).filter((o): o is T => o !== undefined);
  }

  private reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      const before = old ? fn(old) : undefined;
      const after = obj ? fn(obj) : undefined;
      if (before === after) continue;
      if (before !== undefined) {
        const set = index.get(before);
        set?.delete(key);
        if (set?.size === 0) index.delete(before);
      }
      if (after !== undefined) {
        let set = index.get(after);
        if (!set) {
          set = new Set<string>();
          index.set(after, set);
        }
        set.add(key);
      }
    }
  }

  /** get returns the cached object with this key (`namespace/name` or `name`). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** list returns the cached objects, of one namespace if given. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.cache.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  /** size is the number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  private emit(type: WatchEventType, obj: T): void {
    for (const h of this.handlers) h(type, obj);
  }

  private trim(received: T): T {
    return this.opts.transform ? this.opts.transform(received) : received;
  }

  /** put caches an object already trimmed by `trim`. */
  private put(obj: T): void {
    const key = keyOf(obj);
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    this.reindex(key, old, obj);
    const ns = obj.metadata?.namespace ?? "";
    let m = this.byNamespace.get(ns);
    if (!m) {
      m = new Map<string, T>();
      this.byNamespace.set(ns, m);
    }
    m.set(key, obj);
    if (!old) this.emit("ADDED", obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
      this.emit("MODIFIED", obj);
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.cache.get(key) ?? obj;
    this.cache.delete(key);
    this.reindex(key, old, undefined);
    const ns = obj.metadata?.namespace ?? "";
    const m = this.byNamespace.get(ns);
    m?.delete(key);
    if (m && m.size === 0) this.byNamespace.delete(ns);
    this.emit("DELETED", old);
  }

  private async relist(): Promise<void> {
    const gen = ++this.generation;
    try {
      const items: T[] = [];
      let token: string | undefined;
      let rv = "";
      do {
        const page = await this.source.list(token);
        if (gen !== this.generation) return;
        // Trimmed page by page: a first list of 10,000 pods held whole was the start's peak.
        for (const item of page.items) items.push(this.trim(item));
        rv = page.resourceVersion;
        token = page.continueToken || undefined;
      } while (token);
      const fresh = new Set(items.map(keyOf));
      for (const [key, obj] of [...this.cache]) if (!fresh.has(key)) this.remove(obj);
      for (let i = 0; i < items.length; i++) {
        // Each put wakes the handlers: 10,000 of them at once held the event loop for 0.2 s.
        if (i > 0 && i % putChunk === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          if (gen !== this.generation) return;
        }
        this.put(items[i]!);
      }
      this.resourceVersion = rv;
      this.failures = 0;
      if (!this.syncedOnce) {
        this.syncedOnce = true;
        this.syncWaiters.splice(0).forEach((w) => w());
      }
      await this.openWatch(gen);
    } catch (err) {
      if (gen === this.generation) this.retry(err);
    }
  }

  private async openWatch(gen: number): Promise<void> {
    let ended = false;
    const done = (err: unknown) => {
      if (ended || gen !== this.generation) return;
      ended = true;
      this.idleTimer?.cancel();
      this.watchHandle = undefined;
      if (err === null || err === undefined) {
        // The server ended the watch normally (its timeout): continue from the last version.
        void this.openWatch(gen).catch((e: unknown) => this.retry(e));
      } else if (statusOf(err) === 410) {
        void this.relist();
      } else {
        this.retry(err);
      }
    };
    const onEvent = (type: string, obj: T) => {
      if (gen !== this.generation) return;
      this.armIdleTimer(gen, done);
      if (type === "ERROR") {
        const code = (obj as unknown as { code?: number }).code;
        done(
          Object.assign(new Error(`watch ${this.source.describe}: server sent an error`), {
            statusCode: code,
          }),
        );
        return;
      }
      if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
      if (type === "ADDED" || type === "MODIFIED") this.put(this.trim(obj));
      else if (type === "DELETED") this.remove(obj);
      // BOOKMARK only moves resourceVersion forward.
    };
    this.armIdleTimer(gen, done);
    const handle = await this.source.watch(this.resourceVersion, onEvent, done);
    if (gen !== this.generation || ended) {
      handle.abort();
      return;
    }
    this.watchHandle = handle;
  }

  private armIdleTimer(gen: number, done: (err: unknown) => void): void {
    this.idleTimer?.cancel();
    const maxIdle = this.opts.maxIdleMs ?? 5 * 60_000;
    this.idleTimer = this.opts.clock.setTimeout(() => {
      if (gen !== this.generation) return;
      this.watchHandle?.abort();
      done(
        new Error(`watch ${this.source.describe}: no event for ${Math.round(maxIdle / 1000)} s`),
      );
    }, maxIdle);
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    this.generation++;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    this.idleTimer?.cancel();
    this.failures++;
    const base = this.opts.baseBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const delay = Math.min(base * 2 ** (this.failures - 1), max);
    this.opts.onError?.(err, delay);
    this.retryTimer?.cancel();
    this.retryTimer = this.opts.clock.setTimeout(() => void this.relist(), delay);
  }
}
