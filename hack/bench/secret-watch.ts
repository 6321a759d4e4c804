/**
 * SecretWatch is the client side of the latency measurement: a watch on the managed Secrets of
 * one namespace that records when each pod's Secret first appeared (its ADDED event). The watch
 * is resumed from the last resourceVersion if the server ends it.
 */
import * as k8s from "@kubernetes/client-node";
import { errorText, say } from "./util";

const managedSelector = "meshid.dev/managed=true";

/** SecretWatch records the first ADDED event per owning pod. */
export class SecretWatch {
  /** seen maps a pod name to the performance.now() at which its Secret's ADDED event arrived. */
  readonly seen = new Map<string, number>();
  /** created maps a pod name to its Secret's metadata.creationTimestamp (ms since the epoch). */
  readonly created = new Map<string, number>();
  /** restarts counts how often the watch had to be reopened. */
  restarts = 0;
  private resourceVersion = "";
  private request?: { abort(): void };
  private stopped = false;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
  ) {}

  /** start opens the watch; it resolves once the request is sent. */
  async start(): Promise<void> {
    const watch = new k8s.Watch(this.kc);
    const query: Record<string, string | boolean> = {
      labelSelector: managedSelector,
      allowWatchBookmarks: true,
    };
    if (this.resourceVersion) query.resourceVersion = this.resourceVersion;
    this.request = (await watch.watch(
      `/api/v1/namespaces/${this.namespace}/secrets`,
      query,
      (type: string, obj: k8s.V1Secret) => this.onEvent(type, obj),
      (err: unknown) => this.onDone(err),
    )) as { abort(): void };
  }

  private onEvent(type: string, obj: k8s.V1Secret): void {
    const at = performance.now();
    if (type === "ERROR") {
      // 410 Gone: the resourceVersion is too old; start over (ADDED for what exists, deduped).
      this.resourceVersion = "";
      return;
    }
    if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    if (type !== "ADDED") return;
    const owner = obj.metadata?.ownerReferences?.find((o) => o.kind === "Pod")?.name;
    if (!owner || this.seen.has(owner)) return;
    this.seen.set(owner, at);
    const created = obj.metadata?.creationTimestamp;
    if (created) this.created.set(owner, new Date(created).getTime());
    for (const w of this.waiters.filter((x) => this.seen.size >= x.n)) w.resolve();
    this.waiters = this.waiters.filter((x) => this.seen.size < x.n);
  }

  private onDone(err: unknown): void {
    if (this.stopped) return;
    this.restarts++;
    if (err) say(`secret watch ended (${errorText(err)}); reopening`);
    setTimeout(() => {
      if (!this.stopped) this.start().catch((e: unknown) => this.onDone(e));
    }, 200);
  }

  /** waitFor resolves once `n` pods have a Secret, or after `timeoutMs`; true if reached. */
  waitFor(n: number, timeoutMs: number): Promise<boolean> {
    if (this.seen.size >= n) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.seen.size >= n), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      });
    });
  }

  /** stop ends the watch. */
  stop(): void {
    this.stopped = true;
    this.request?.abort();
  }
}
