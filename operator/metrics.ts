/**
 * Prometheus metrics on /metrics (prom-client). Labels are bounded: namespace, MeshIdentity,
 * reason and queue, never a pod, so cardinality follows the number of MeshIdentities.
 */
import { closeServer, listenOn } from "./serve";
import * as http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { V1Pod } from "@kubernetes/client-node";
import type { IssueReason } from "./policy/issuance";
import type { IssuanceObserver } from "./controllers/pod-controller";
import type { IdentityObserver } from "./controllers/identity-controller";
import type { QueueStats } from "./kube/queue";
import type { RequestStats } from "./kube/client";
import type { Clock } from "./clock";

/** MetricsSources are read at scrape time. */
export interface MetricsSources {
  queues: () => Record<string, QueueStats>;
  requests: () => RequestStats;
  isLeader: () => boolean;
  caNotAfter: () => Date | undefined;
  /** caExpiringWithoutSuccessor is true past the CA's renewal point when no successor comes. */
  caExpiringWithoutSuccessor?: () => boolean;
  /** pacedWaiting counts pods waiting for their slot of a paced re-issue, by reason. */
  pacedWaiting?: () => Record<string, number>;
}

/** eventLoopResolutionMs is how often the event-loop delay monitor samples. */
const eventLoopResolutionMs = 10;

/** Metrics owns the registry and implements the observers the controllers call. */
export class Metrics implements IssuanceObserver, IdentityObserver {
  readonly registry = new Registry();
  private readonly issuedTotal: Counter<"namespace" | "reason">;
  private readonly failuresTotal: Counter<"reason">;
  private readonly rotationTotal: Counter<"from" | "to">;
  private readonly latency: Histogram<"namespace">;
  private readonly earliestExpiry: Gauge<"namespace" | "meshidentity">;
  /**
   * When the operator first saw each pod (ms), or `observed` once its issuance latency is recorded:
   * a pod's latency is observed once, even when its Secret is later deleted and issued anew.
   */
  private readonly firstSeen = new Map<string, number | "observed">();
  private server?: http.Server;

  constructor(
    private readonly clock: Clock,
    sources: MetricsSources,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "meshid_process_" });
    this.issuedTotal = new Counter({
      name: "meshid_certificates_issued_total",
      help: "Certificates issued, by namespace and reason (new, renewal, spec-change, ca-change, ...)",
      labelNames: ["namespace", "reason"],
      registers,
    });
    this.failuresTotal = new Counter({
      name: "meshid_issuance_failures_total",
      help: "Issuance failures, by error code",
      labelNames: ["reason"],
      registers,
    });
    this.rotationTotal = new Counter({
      name: "meshid_ca_rotation_transitions_total",
      help: "Root rotation phase transitions made by this replica, by phase left (None when a rotation starts) and phase entered",
      labelNames: ["from", "to"],
      registers,
    });
    this.latency = new Histogram({
      name: "meshid_issuance_latency_seconds",
      help: "Time from the operator first seeing a pod to writing its first certificate Secret, by namespace (once per pod)",
      labelNames: ["namespace"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.earliestExpiry = new Gauge({
      name: "meshid_certificate_earliest_expiry_timestamp_seconds",
      help: "Earliest notAfter among the current certificates of a MeshIdentity (Unix time)",
      labelNames: ["namespace", "meshidentity"],
      registers,
    });
    new Gauge({
      name: "meshid_ca_expiry_timestamp_seconds",
      help: "notAfter of the signing CA (Unix time); absent while the CA is not loaded",
      registers,
      collect() {
        this.reset();
        const t = sources.caNotAfter();
        if (t) this.set(t.getTime() / 1000);
      },
    });
    new Gauge({
      name: "meshid_ca_expiring_without_successor",
      help: "1 when the intermediate CA is past its renewal point and no successor is coming (external mode, or a root about to expire)",
      registers,
      collect() {
        this.set(sources.caExpiringWithoutSuccessor?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: "meshid_reissue_waiting",
      help: "Pods whose certificate is due for a paced mass re-issue and waits for its slot, by reason (ca-change, requested)",
      labelNames: ["reason"],
      registers,
      collect() {
        for (const [reason, n] of Object.entries(sources.pacedWaiting?.() ?? {}))
          this.set({ reason }, n);
      },
    });
    new Gauge({
      name: "meshid_queue_depth",
      help: "Keys waiting in a work queue",
      labelNames: ["queue"],
      registers,
      collect() {
        for (const [queue, s] of Object.entries(sources.queues())) this.set({ queue }, s.depth);
      },
    });
    new Gauge({
      name: "meshid_queue_retries",
      help: "Reconciles retried after a failure since start, by queue (a counter, exposed as read)",
      labelNames: ["queue"],
      registers,
      collect() {
        for (const [queue, s] of Object.entries(sources.queues())) this.set({ queue }, s.retries);
      },
    });
    // prom-client's meshid_process_nodejs_eventloop_lag_* restart at every scrape; this one
    // covers the whole life of the process, so a stall between two scrapes stays visible.
    const loop = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
    loop.enable();
    new Gauge({
      name: "meshid_event_loop_delay_seconds",
      help: `Event-loop delay since the process started (perf_hooks, sampled every ${eventLoopResolutionMs} ms; values include that interval), by quantile (0.5, 0.99, 1 = the longest)`,
      labelNames: ["quantile"],
      registers,
      collect() {
        this.set({ quantile: "0.5" }, loop.percentile(50) / 1e9);
        this.set({ quantile: "0.99" }, loop.percentile(99) / 1e9);
        this.set({ quantile: "1" }, loop.max / 1e9);
      },
    });
    new Gauge({
      name: "meshid_leader",
      help: "1 while this replica holds the leader Lease and reconciles",
      registers,
      collect() {
        this.set(sources.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: "meshid_api_requests",
      help: "API requests made since start by this replica, by kind (read, write)",
      labelNames: ["kind"],
      registers,
      collect() {
        const r = sources.requests();
        this.set({ kind: "read" }, r.reads);
        this.set({ kind: "write" }, r.writes);
      },
    });
  }

  /** podSeen records when the operator first saw a pod (the start of issuance latency). */
  podSeen(key: string): void {
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, this.clock.now().getTime());
  }

  /** podGone forgets a deleted pod. */
  podGone(key: string): void {
    this.firstSeen.delete(key);
  }

  issued(namespace: string, reason: IssueReason, pod: V1Pod): void {
    this.issuedTotal.inc({ namespace, reason });
    if (reason !== "new") return;
    const key = `${namespace}/${pod.metadata?.name ?? ""}`;
    const seen = this.firstSeen.get(key);
    if (typeof seen !== "number") return;
    this.firstSeen.set(key, "observed");
    this.latency.observe({ namespace }, (this.clock.now().getTime() - seen) / 1000);
  }

  /** rotationTransition counts one root rotation phase transition. */
  rotationTransition(from: string, to: string): void {
    this.rotationTotal.inc({ from, to });
  }

  failed(reason: string): void {
    this.failuresTotal.inc({ reason });
  }

  earliestExpiryChanged(namespace: string, name: string, notAfter: Date | undefined): void {
    if (notAfter)
      this.earliestExpiry.set({ namespace, meshidentity: name }, notAfter.getTime() / 1000);
    else this.earliestExpiry.remove({ namespace, meshidentity: name });
  }

  /** listen serves /metrics; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    this.server = http.createServer((req, res) => {
      if ((req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404).end("not found");
        return;
      }
      this.registry
        .metrics()
        .then((body) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(body))
        .catch((err: unknown) =>
          res.writeHead(500).end(err instanceof Error ? err.message : String(err)),
        );
    });
    return listenOn(this.server, port, host);
  }

  /** close stops serving. */
  close(): Promise<void> {
    return closeServer(this.server);
  }
}
