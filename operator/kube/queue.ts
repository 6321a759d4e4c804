/**
 * KeyedQueue is the work queue between watch events and reconciles: keys, not snapshots.
 * A key is queued at most once; a key being processed is never processed twice at the same time,
 * and a key added during its processing runs once more afterwards. Failures retry with
 * per-key exponential backoff; `addAfter` keeps only the earliest pending delay per key.
 */
import type { Clock } from "../clock";

/** ReconcileResult is what a reconcile returns: when to look again, if at all. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** QueueOptions configures a KeyedQueue. */
export interface QueueOptions {
  name: string;
  concurrency: number;
  clock: Clock;
  /** First retry delay after a failure; doubles per consecutive failure. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, err: unknown, attempt: number, retryInMs: number) => void;
}

/** QueueStats is a snapshot for metrics. */
export interface QueueStats {
  depth: number;
  active: number;
  delayed: number;
  retries: number;
}

/** yieldToEventLoop resolves after the event loop has run its pending I/O and timers once. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** KeyedQueue runs `handler` for keys with de-duplication, bounded concurrency and retries. */
export class KeyedQueue {
  /** ready is a FIFO read from `head`: Array.shift moves every element, O(n) per key. */
  private ready: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: { cancel(): void } }>();
  private readonly failures = new Map<string, number>();
  private retries = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly opts: QueueOptions,
    private readonly handler: (key: string) => Promise<ReconcileResult | void>,
  ) {}

  /** start begins processing; keys added before are kept. */
  start(): void {
    this.running = true;
    this.pump();
  }

  /** pause stops taking new keys (in-flight ones finish); queued keys stay queued. */
  pause(): void {
    this.running = false;
  }

  /** add queues `key` now. */
  add(key: string): void {
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.cancelDelayed(key);
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** addAfter queues `key` after `ms`, unless it is already due earlier. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = this.opts.clock.now().getTime() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.opts.clock.setTimeout(() => {
      const cur = this.delayed.get(key);
      if (cur?.timer !== timer) return;
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** stats reports the queue's size for metrics. */
  stats(): QueueStats {
    return {
      depth: this.depth,
      active: this.active.size,
      delayed: this.delayed.size,
      retries: this.retries,
    };
  }

  /** idle resolves when nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.depth === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** shutdown cancels every delayed key and stops processing. */
  shutdown(): void {
    this.running = false;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
  }

  private get depth(): number {
    return this.ready.length - this.head;
  }

  /** next takes the oldest ready key; the array is compacted once half of it is consumed. */
  private next(): string {
    const key = this.ready[this.head++]!;
    if (this.head >= 1024 && this.head * 2 >= this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return key;
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (pending) {
      pending.timer.cancel();
      this.delayed.delete(key);
    }
  }

  private pump(): void {
    while (this.running && this.active.size < this.opts.concurrency && this.depth > 0) {
      const key = this.next();
      this.queued.delete(key);
      this.active.add(key);
      void this.process(key);
    }
    if (this.depth === 0 && this.active.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private async process(key: string): Promise<void> {
    let requeueAfterMs: number | undefined;
    let failed = false;
    try {
      // A reconcile that finds nothing to do completes without I/O; started from the previous
      // one's completion, thousands of them would run as one chain of promise continuations
      // while timers, sockets and /healthz wait. Each key starts in a turn of its own.
      await yieldToEventLoop();
      const result = await this.handler(key);
      requeueAfterMs = result?.requeueAfterMs;
      this.failures.delete(key);
    } catch (err) {
      failed = true;
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      this.retries++;
      const base = this.opts.baseBackoffMs ?? 500;
      const max = this.opts.maxBackoffMs ?? 300_000;
      requeueAfterMs = Math.min(base * 2 ** (attempt - 1), max);
      this.opts.onError?.(key, err, attempt, requeueAfterMs);
    } finally {
      this.active.delete(key);
    }
    if (this.dirty.delete(key) && !failed) {
      this.add(key);
    } else if (requeueAfterMs !== undefined) {
      this.addAfter(key, Math.max(requeueAfterMs, 1));
    }
    this.pump();
  }
}
