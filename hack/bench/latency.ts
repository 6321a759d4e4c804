/**
 * Phase 1: pods created at a steady rate while the operator runs; the latency from sending each
 * pod's creation to its Secret's ADDED event on a client watch, and the operator's own
 * meshid_issuance_latency_seconds histogram (first seen → Secret written) over the same pods.
 * Then, with the same operator, short steps at higher rates, each in a namespace of its own, to
 * show where latency saturates.
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
  /** steps are the rate steps after the main measurement. */
  steps: LatencyStep[];
  operatorLog: LogSummary;
}

/** LatencyStep is one short step at a higher rate. */
export interface LatencyStep {
  rate: number;
  pods: number;
  achievedRate: number;
  withSecret: number;
  p50?: number;
  p99?: number;
  max?: number;
  /** createP99 is the p99 of the pod create requests themselves (the API server's share). */
  createP99?: number;
}

const namespace = "bench-latency";
const stepNamespace = (i: number) => `bench-latency-step-${i}`;

/** measurePaced creates pods at `rate` and returns each pod's latency and create time. */
async function measurePaced(
  cluster: BenchCluster,
  ns: string,
  pods: number,
  rate: number,
): Promise<{ latencies: number[]; creates: number[]; achievedRate: number; maxSlipMs: number }> {
  const watch = new SecretWatch(cluster.kc, ns);
  await watch.start();
  try {
    let created = 0;
    const stopProgress = every(
      3000,
      () => `latency: ${ns}: ${created}/${pods} pods created, ${watch.seen.size} Secrets`,
    );
    let paced;
    try {
      paced = await createPaced(cluster.core, ns, "lat", pods, rate, () => {
        created++;
      });
      await watch.waitFor(pods, 120_000);
    } finally {
      stopProgress();
    }
    const latencies: number[] = [];
    for (const p of paced.pods) {
      const at = watch.seen.get(p.name);
      if (at !== undefined) latencies.push((at - p.sentAt) / 1000);
    }
    const creates = paced.pods.map((p) => (p.doneAt - p.sentAt) / 1000);
    return { latencies, creates, achievedRate: paced.achievedRate, maxSlipMs: paced.maxSlipMs };
  } finally {
    watch.stop();
  }
}

/** runLatencyPhase runs phase 1 and stops its operator; the namespaces are deleted afterwards. */
export async function runLatencyPhase(
  cluster: BenchCluster,
  opts: {
    pods: number;
    rate: number;
    steps: number[];
    stepSeconds: number;
    concurrency?: number;
    operatorJs?: string;
  },
  track: (op: BenchOperator | undefined) => void,
): Promise<LatencyResult> {
  say(`latency: creating namespace ${namespace} and MeshIdentity, starting the operator`);
  await cluster.createNamespace(namespace);
  await cluster.createIdentity(namespace);
  for (let i = 0; i < opts.steps.length; i++) {
    await cluster.createNamespace(stepNamespace(i));
    await cluster.createIdentity(stepNamespace(i));
  }
  const op = await BenchOperator.start({
    kubeconfig: cluster.kubeconfigPath,
    logFile: join(cluster.dir, "operator-latency.log"),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
  });
  track(op);
  try {
    await op.waitReady();
    await sleep(2000); // let start-up work (CA load, first reconciles) finish before reading
    const idleRss = readMemory(op.pid)?.rss;
    const before = histogramBuckets(await op.scrape(), "meshid_issuance_latency_seconds");
    say(`latency: operator ready; creating ${opts.pods} pods at ${opts.rate}/s`);
    const main = await measurePaced(cluster, namespace, opts.pods, opts.rate);
    say(`latency: ${main.latencies.length}/${opts.pods} pods hold a Secret`);
    const after = histogramBuckets(await op.scrape(), "meshid_issuance_latency_seconds");
    const buckets = subtractBuckets(after, before);
    const steps: LatencyStep[] = [];
    for (const [i, rate] of opts.steps.entries()) {
      const pods = Math.max(1, Math.round(rate * opts.stepSeconds));
      say(`latency: step ${i + 1}/${opts.steps.length}: ${pods} pods at ${rate}/s`);
      await sleep(2000); // the previous step's echoes
      const m = await measurePaced(cluster, stepNamespace(i), pods, rate);
      steps.push({
        rate,
        pods,
        achievedRate: m.achievedRate,
        withSecret: m.latencies.length,
        p50: percentile(m.latencies, 50),
        p99: percentile(m.latencies, 99),
        max: percentile(m.latencies, 100),
        createP99: percentile(m.creates, 99),
      });
    }
    const { latencies, creates } = main;
    const mean = latencies.length
      ? latencies.reduce((a, b) => a + b, 0) / latencies.length
      : undefined;
    return {
      namespace,
      pods: opts.pods,
      rate: opts.rate,
      achievedRate: main.achievedRate,
      maxSlipSeconds: main.maxSlipMs / 1000,
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
      steps,
      operatorLog: op.logSummary(),
    };
  } finally {
    await op.stop();
    track(undefined);
  }
}

/** cleanLatencyPhase deletes phase 1's namespaces so phase 2's operator starts on its pods only. */
export async function cleanLatencyPhase(cluster: BenchCluster, steps: number): Promise<boolean> {
  const all = [namespace, ...Array.from({ length: steps }, (_, i) => stepNamespace(i))];
  say(`latency: deleting namespaces ${all.join(", ")} (their pods, Secrets and Events)`);
  const gone = await Promise.all(all.map((ns) => cluster.deleteNamespace(ns, 240_000)));
  if (gone.includes(false))
    say("latency: a namespace was still terminating after 240 s; continuing");
  return !gone.includes(false);
}
