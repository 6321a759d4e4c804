/**
 * Phase 1: pods created at a steady rate while the operator runs; the latency from sending each
 * pod's creation to its Secret's ADDED event on a client watch, and the operator's own
 * meshid_issuance_latency_seconds histogram (first seen → Secret written) over the same pods.
 */
import { join } from "node:path";
import type { BenchCluster } from "./cluster";
import { BenchOperator, type LogSummary } from "./operator-process";
import { createPaced } from "./pods";
import {
  histogramBuckets,
  histogramQuantile,
  subtractBuckets,
  type HistogramQuantile,
} from "./prom";
import { SecretWatch } from "./secret-watch";
import { readMemory } from "./proc";
import { every, percentile, say, sleep } from "./util";

/** LatencyResult is what phase 1 measured; times in seconds. */
export interface LatencyResult {
  namespace: string;
  pods: number;
  rate: number;
  achievedRate: number;
  maxSlipSeconds: number;
  withSecret: number;
  client: { p50?: number; p95?: number; p99?: number; max?: number; mean?: number };
  /** createRequest is the API round trip of the pod creations themselves. */
  createRequest: { p50?: number; p99?: number };
  operatorHistogram: {
    count: number;
    p50?: HistogramQuantile;
    p95?: HistogramQuantile;
    p99?: HistogramQuantile;
  };
  /** idleRss is the operator's RSS once ready with no pod to serve: its fixed cost. */
  idleRss?: number;
  operatorLog: LogSummary;
}

const namespace = "bench-latency";

/** runLatencyPhase runs phase 1 and stops its operator; the namespace is deleted afterwards. */
export async function runLatencyPhase(
  cluster: BenchCluster,
  opts: { pods: number; rate: number; concurrency?: number; operatorJs?: string },
  track: (op: BenchOperator | undefined) => void,
): Promise<LatencyResult> {
  say(`latency: creating namespace ${namespace} and MeshIdentity, starting the operator`);
  await cluster.createNamespace(namespace);
  await cluster.createIdentity(namespace);
  const op = await BenchOperator.start({
    kubeconfig: cluster.kubeconfigPath,
    logFile: join(cluster.dir, "operator-latency.log"),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
  });
  track(op);
  const watch = new SecretWatch(cluster.kc, namespace);
  try {
    await op.waitReady();
    await sleep(2000); // let start-up work (CA load, first reconciles) finish before reading
    const idleRss = readMemory(op.pid)?.rss;
    await watch.start();
    const before = histogramBuckets(await op.scrape(), "meshid_issuance_latency_seconds");
    say(`latency: operator ready; creating ${opts.pods} pods at ${opts.rate}/s`);
    let created = 0;
    const stopProgress = every(
      3000,
      () => `latency: ${created}/${opts.pods} pods created, ${watch.seen.size} Secrets`,
    );
    let paced;
    try {
      paced = await createPaced(cluster.core, namespace, "lat", opts.pods, opts.rate, () => {
        created++;
      });
      await watch.waitFor(opts.pods, 120_000);
    } finally {
      stopProgress();
    }
    say(`latency: ${watch.seen.size}/${opts.pods} pods hold a Secret`);
    const after = histogramBuckets(await op.scrape(), "meshid_issuance_latency_seconds");
    const buckets = subtractBuckets(after, before);

    const latencies: number[] = [];
    for (const p of paced.pods) {
      const at = watch.seen.get(p.name);
      if (at !== undefined) latencies.push((at - p.sentAt) / 1000);
    }
    const creates = paced.pods.map((p) => (p.doneAt - p.sentAt) / 1000);
    const mean = latencies.length
      ? latencies.reduce((a, b) => a + b, 0) / latencies.length
      : undefined;
    return {
      namespace,
      pods: opts.pods,
      rate: opts.rate,
      achievedRate: paced.achievedRate,
      maxSlipSeconds: paced.maxSlipMs / 1000,
      withSecret: latencies.length,
      client: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
        mean,
      },
      createRequest: { p50: percentile(creates, 50), p99: percentile(creates, 99) },
      operatorHistogram: {
        count: buckets.at(-1)?.count ?? 0,
        p50: histogramQuantile(0.5, buckets),
        p95: histogramQuantile(0.95, buckets),
        p99: histogramQuantile(0.99, buckets),
      },
      idleRss,
      operatorLog: op.logSummary(),
    };
  } finally {
    watch.stop();
    await op.stop();
    track(undefined);
  }
}

/** cleanLatencyPhase deletes phase 1's namespace so phase 2's operator starts on its pods only. */
export async function cleanLatencyPhase(cluster: BenchCluster): Promise<boolean> {
  say(`latency: deleting namespace ${namespace} (its pods, Secrets and Events)`);
  const gone = await cluster.deleteNamespace(namespace, 180_000);
  if (!gone) say(`latency: namespace ${namespace} still terminating after 180 s; continuing`);
  return gone;
}
