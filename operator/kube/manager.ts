/**
 * ControllerManager runs controllers the way controller-runtime's manager does: it creates each
 * informer once (one factory, one error policy), gives every controller its own keyed queue, turns
 * the watch events each controller declares into that queue's keys, and runs the queues only while
 * this replica leads. A controller never sees an event, only keys (kubebuilder's Reconcile +
 * SetupWithManager).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../clock";
import { errorText } from "../errors";
import type { Logger } from "../logger";
import { Informer, type ResourceSource, type WatchEventType } from "./informer";
import { KeyedQueue, type QueueStats, type ReconcileResult } from "./queue";

/** Source is an informer as controllers see it: cached reads plus change events. */
export interface Source<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(name: string, value: string): T[];
  on(handler: (type: WatchEventType, obj: T) => void): void;
}

/**
 * Watch is one declared trigger of a controller: a source whose events become keys. Its object
 * type is erased once built, so a controller can list watches of several kinds.
 */
export interface Watch {
  /** subscribe registers the trigger; `enqueue` receives the keys of each event. */
  subscribe(enqueue: (keys: string[], delayMs?: number) => void): void;
}

/**
 * watch declares that events of `source` wake the controller: `keys` maps an event to the keys
 * to reconcile (it only computes, never writes); `delayMs` coalesces bursts, reconciling each key
 * once, this long after its first event.
 */
export function watch<T>(
  source: Source<T>,
  keys: (type: WatchEventType, obj: T) => string[],
  delayMs?: number,
): Watch {
  return { subscribe: (enqueue) => source.on((type, obj) => enqueue(keys(type, obj), delayMs)) };
}

/** Controller is one reconcile loop: what it reconciles, and what wakes it. */
export interface Controller {
  /** name names the queue in logs and metrics. */
  readonly name: string;
  readonly concurrency: number;
  reconcile(key: string): Promise<ReconcileResult>;
  /** watches lists the events that wake the controller, declared beside its reconcile. */
  watches(): Watch[];
  /** allKeys lists every key, reconciled when leading starts, the CA changes, and on resync. */
  allKeys(): string[];
}

/** InformerSpec describes one informer the manager creates. */
export interface InformerSpec<T> {
  source: ResourceSource<T>;
  transform?: (obj: T) => T;
  indexes?: { name: string; fn: (obj: T) => string | undefined }[];
}

/** ControllerManager owns every informer and queue of the process. */
export class ControllerManager {
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly running: { controller: Controller; queue: KeyedQueue }[] = [];
  private resyncTimer?: { cancel(): void };
  private leading = false;

  constructor(private readonly deps: { clock: Clock; logger: Logger; resyncPeriodMs: number }) {}

  /** informer creates (once per name) a supervised list-then-watch cache. */
  informer<T extends KubernetesObject>(name: string, spec: InformerSpec<T>): Informer<T> {
    const existing = this.informers.get(name);
    if (existing) return existing as unknown as Informer<T>;
    const informer = new Informer<T>(spec.source, {
      clock: this.deps.clock,
      ...(spec.transform ? { transform: spec.transform } : {}),
      onError: (err, retryInMs) =>
        this.deps.logger.warn("Watch failed; relisting", {
          resource: name,
          error: errorText(err),
          retryInMs,
        }),
    });
    for (const index of spec.indexes ?? []) informer.addIndex(index.name, index.fn);
    this.informers.set(name, informer as unknown as Informer<KubernetesObject>);
    return informer;
  }

  /** add gives `controller` a queue and subscribes its watches; call before start. */
  add(controller: Controller): void {
    const { clock, logger } = this.deps;
    const queue = new KeyedQueue(
      {
        name: controller.name,
        concurrency: controller.concurrency,
        clock,
        onError: (key, err, attempt, retryInMs) =>
          logger.warn("Reconcile failed; retrying", {
            queue: controller.name,
            key,
            attempt,
            retryInMs,
            error: errorText(err),
          }),
      },
      (key) => controller.reconcile(key),
    );
    for (const w of controller.watches())
      w.subscribe((keys, delayMs) => {
        for (const key of keys) {
          if (delayMs === undefined) queue.add(key);
          else queue.addAfter(key, delayMs);
        }
      });
    this.running.push({ controller, queue });
  }

  /** start starts every informer and resolves once all have listed. */
  async start(): Promise<void> {
    for (const informer of this.informers.values()) informer.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    this.scheduleResync();
  }

  /** unsynced names the informers whose first list has not completed. */
  unsynced(): string[] {
    return [...this.informers].filter(([, i]) => !i.synced).map(([name]) => name);
  }

  /** sizes counts the cached objects of each informer. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.informers].map(([name, i]) => [name, i.size]));
  }

  /** lead starts reconciling: every key once, then whatever the watches bring. */
  lead(): void {
    this.leading = true;
    this.resync();
    for (const { queue } of this.running) queue.start();
  }

  /** pause stops taking keys (a lost Lease); queued keys wait for the next lead. */
  pause(): void {
    this.leading = false;
    for (const { queue } of this.running) queue.pause();
  }

  /** resync queues every key of every controller. */
  resync(): void {
    for (const { controller, queue } of this.running)
      for (const key of controller.allKeys()) queue.add(key);
  }

  /** stats reports each queue, for metrics. */
  stats(): Record<string, QueueStats> {
    return Object.fromEntries(
      this.running.map(({ controller, queue }) => [controller.name, queue.stats()]),
    );
  }

  /** stop ends every queue, informer and timer. */
  stop(): void {
    this.resyncTimer?.cancel();
    for (const { queue } of this.running) queue.shutdown();
    for (const informer of this.informers.values()) informer.stop();
  }

  /**
   * scheduleResync re-checks everything every period (plus up to 10% jitter), so drift that
   * raised no event does not outlive one period.
   */
  private scheduleResync(): void {
    const ms = this.deps.resyncPeriodMs * (1 + 0.1 * Math.random());
    this.resyncTimer = this.deps.clock.setTimeout(() => {
      if (this.leading) {
        this.deps.logger.debug("Resyncing");
        this.resync();
      }
      this.scheduleResync();
    }, ms);
  }
}
