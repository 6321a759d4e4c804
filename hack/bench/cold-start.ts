/**
 * Phase 2: a cold start. Pods are created while no operator runs; then the operator starts and
 * the phase times how long until every pod holds a Secret, with throughput per 5 s, the
 * operator's RSS (peak, and steady after it settles), API requests per certificate as the
 * operator counts them, the API server's own count of writes, and CPU time per process.
 */
import { join } from "node:path";
import type { BenchCluster } from "./cluster";
import { BenchOperator, type LogSummary } from "./operator-process";
import { createBulk, type CreatedPod } from "./pods";
import { cpuSecondsOf, RssSampler, type RssSample } from "./proc";
import { requestCounts, sumOf, type Sample } from "./prom";
import { HealthProbe, QueueSampler, type QueueSample } from "./queue-sampler";
import { SecretWatch } from "./secret-watch";
import { validateSecrets, type Validation } from "./validate";
import { errorText, every, mb, percentile, say, sleep, windows, type Window } from "./util";

/** ColdStartResult is what phase 2 measured; times in seconds since the operator's spawn. */
export interface ColdStartResult {
  namespace: string;
  pods: number;
  create: { seconds: number; perSecond: number; concurrency: number };
  complete: boolean;
  /** spawnedAt is the operator's start (wall clock), to line its log up with these figures. */
  spawnedAt: string;
  issuedWithin?: number;
  readyAfter: number;
  firstSecretAfter?: number;
  overallPerSecond?: number;
  throughput: Window[];
  memory: {
    peakRss: number;
    hwm: number;
    rssAtCompletion?: number;
    steadyRss?: number;
    settleSeconds: number;
    steadyHeapUsed?: number;
    steadyHeapTotal?: number;
    steadyExternal?: number;
    samples: RssSample[];
  };
  api: {
    issued: number;
    reads: number;
    writes: number;
    readsPerCert?: number;
    writesPerCert?: number;
    failures: number;
    queueRetries: number;
  };
  /** apiServerRequests: the API server's apiserver_request_total growth, by "VERB resource". */
  apiServerRequests: Record<string, number>;
  /** cpuSeconds used per process from the operator's spawn to the last Secret. */
  cpuSeconds: Record<string, number>;
  validation: Validation;
  /** fractionIssued: seconds until 50%, 90%, 99% and 99.9% of the pods held a Secret. */
  fractionIssued: Record<string, number>;
  /**
   * stragglers are the last Secrets to appear: when the client saw them and when the API server
   * stamped them created (1 s resolution), both in seconds since the operator's spawn.
   */
  stragglers: { pod: string; seenAfter: number; createdAfter?: number }[];
  /** scrapeError says why the final /metrics scrape failed (API and heap figures are then 0). */
  scrapeError?: string;
  /** queue is the operator's work-queue depth and issued count, scraped every 5 s. */
  queue: QueueSample[];
  /**
   * eventLoop is meshid_event_loop_delay_seconds read when the last Secret appeared: the delay
   * over the whole process life up to then (spawn, list, cold start), in seconds.
   */
  eventLoop?: { p50: number; p99: number; max: number };
  /** probes counts the /healthz (every 1 s) and /metrics (every 5 s) requests after ready. */
  probes: {
    healthz: { tried: number; answered: number };
    metrics: { tried: number; answered: number };
  };
  operatorLog: LogSummary;
}

const namespace = "bench-cold";

const gauge = (m: Sample[], name: string) => (m.length ? sumOf(m, name) : undefined);

/** runColdStart runs phase 2; the operator is stopped (and any profile written) on return. */
export async function runColdStart(
  cluster: BenchCluster,
  opts: {
    pods: number;
    createConcurrency: number;
    settleSeconds: number;
    concurrency?: number;
    profileDir?: string;
    operatorJs?: string;
  },
  track: (op: BenchOperator | undefined) => void,
): Promise<ColdStartResult> {
  await cluster.createNamespace(namespace);
  await cluster.createIdentity(namespace);
  say(`cold start: creating ${opts.pods} pods, ${opts.createConcurrency} at a time`);
  let created = 0;
  const c0 = performance.now();
  let stopProgress = every(5000, () => {
    const s = (performance.now() - c0) / 1000;
    return `cold start: ${created}/${opts.pods} pods created, ${(created / s).toFixed(0)}/s`;
  });
  let pods: CreatedPod[];
  try {
    pods = await createBulk(
      cluster.core,
      namespace,
      "cold",
      opts.pods,
      opts.createConcurrency,
      () => {
        created++;
      },
    );
  } finally {
    stopProgress();
  }
  const createSeconds = (performance.now() - c0) / 1000;
  say(
    `cold start: ${opts.pods} pods created in ${createSeconds.toFixed(1)} s; starting the operator`,
  );

  const watch = new SecretWatch(cluster.kc, namespace);
  await watch.start();
  const apiBefore = requestCounts(await cluster.apiServerMetrics());
  const pids = cluster.pids();
  const op = await BenchOperator.start({
    kubeconfig: cluster.kubeconfigPath,
    logFile: join(cluster.dir, "operator-cold.log"),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
    ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
  });
  track(op);
  const t0 = performance.now();
  const spawnedAt = Date.now();
  const cpuBefore = cpuSecondsOf({ ...pids, "meshid-operator": op.pid });
  const rss = new RssSampler(op.pid).begin();
  const since = (at: number) => (at - t0) / 1000;
  // Generous, so a slow run still ends with figures: 10 min, or 0.1 s per pod if longer.
  const deadlineMs = Math.max(600_000, opts.pods * 100);
  try {
    let readyAfter = NaN;
    const ready = op.waitReady(300_000).then(() => (readyAfter = since(performance.now())));
    const queue = new QueueSampler(op, since, () => readyAfter >= 0).begin();
    const health = new HealthProbe(op, () => readyAfter >= 0).begin();
    let last = 0;
    stopProgress = every(5000, () => {
      const n = watch.seen.size;
      const line = `cold start: ${n}/${opts.pods} Secrets, ${((n - last) / 5).toFixed(0)}/s, operator RSS ${mb(rss.samples.at(-1)?.rss)}, pod queue depth ${queue.latest?.pods ?? "?"}`;
      last = n;
      return line;
    });
    let complete: boolean;
    try {
      await ready;
      complete = await watch.waitFor(opts.pods, deadlineMs);
    } finally {
      stopProgress();
      queue.end();
      health.end();
    }
    const doneAt = performance.now();
    const atCompletion = await op.scrape().catch(() => [] as Sample[]);
    const loopQ = (q: string) =>
      atCompletion.find(
        (m) => m.name === "meshid_event_loop_delay_seconds" && m.labels.quantile === q,
      )?.value;
    const [p50, p99, max] = ["0.5", "0.99", "1"].map(loopQ);
    const eventLoop =
      p50 !== undefined && p99 !== undefined && max !== undefined ? { p50, p99, max } : undefined;
    const scrapes = queue.samples;
    const cpuAfter = cpuSecondsOf({ ...pids, "meshid-operator": op.pid });
    const rssAtCompletion = rss.sample()?.rss;
    const times = [...watch.seen.values()].map(since);
    const issuedWithin = complete ? Math.max(...times) : undefined;
    say(
      complete
        ? `cold start: all ${opts.pods} pods hold a Secret ${issuedWithin!.toFixed(1)} s after the operator started`
        : `cold start: only ${watch.seen.size}/${opts.pods} Secrets after ${deadlineMs / 1000} s`,
    );
    say(`cold start: settling for ${opts.settleSeconds} s before reading steady RSS`);
    await sleep(opts.settleSeconds * 1000);
    const steadyRss = rss.sample()?.rss;
    let scrapeError: string | undefined;
    const final = await op.scrape().catch((err: unknown) => {
      scrapeError = errorText(err);
      return [] as Sample[];
    });
    const apiAfter = requestCounts(await cluster.apiServerMetrics());
    rss.end();

    const issued = sumOf(final, "meshid_certificates_issued_total");
    const reads = sumOf(final, "meshid_api_requests", { kind: "read" });
    const writes = sumOf(final, "meshid_api_requests", { kind: "write" });
    const apiServerRequests: Record<string, number> = {};
    for (const [k, v] of [...apiAfter].sort((a, b) => b[1] - a[1])) {
      const d = v - (apiBefore.get(k) ?? 0);
      if (d > 0) apiServerRequests[k] = d;
    }
    const cpuSeconds: Record<string, number> = {};
    for (const k of Object.keys(cpuAfter)) cpuSeconds[k] = cpuAfter[k]! - (cpuBefore[k] ?? 0);
    const operatorLog = op.logSummary();
    await op.stop();
    track(undefined);
    watch.stop();

    say("cold start: checking every pod's Secret (chain, SPIFFE ID, key, owner)");
    const validation = await validateSecrets(cluster.core, namespace, pods);
    const until = issuedWithin ?? since(doneAt);
    return {
      namespace,
      pods: opts.pods,
      create: {
        seconds: createSeconds,
        perSecond: opts.pods / createSeconds,
        concurrency: opts.createConcurrency,
      },
      complete,
      spawnedAt: new Date(spawnedAt).toISOString(),
      ...(scrapeError ? { scrapeError } : {}),
      ...(issuedWithin !== undefined ? { issuedWithin } : {}),
      readyAfter,
      ...(times.length ? { firstSecretAfter: Math.min(...times) } : {}),
      ...(issuedWithin ? { overallPerSecond: opts.pods / issuedWithin } : {}),
      throughput: windows(times, 5, until),
      fractionIssued: Object.fromEntries(
        [50, 90, 99, 99.9].map((p) => [`${p}%`, percentile(times, p) ?? NaN]),
      ),
      stragglers: [...watch.seen]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([pod, at]) => {
          const created = watch.created.get(pod);
          return {
            pod,
            seenAfter: since(at),
            ...(created ? { createdAfter: (created - spawnedAt) / 1000 } : {}),
          };
        }),
      queue: scrapes,
      ...(eventLoop ? { eventLoop } : {}),
      probes: {
        healthz: { tried: health.tried, answered: health.answered },
        metrics: {
          tried: scrapes.length,
          answered: scrapes.filter((q) => !q.unanswered).length,
        },
      },
      memory: {
        peakRss: rss.peakRss,
        hwm: rss.lastHwm,
        rssAtCompletion,
        steadyRss,
        settleSeconds: opts.settleSeconds,
        steadyHeapUsed: gauge(final, "meshid_process_nodejs_heap_size_used_bytes"),
        steadyHeapTotal: gauge(final, "meshid_process_nodejs_heap_size_total_bytes"),
        steadyExternal: gauge(final, "meshid_process_nodejs_external_memory_bytes"),
        samples: rss.perSecond(),
      },
      api: {
        issued,
        reads,
        writes,
        ...(issued > 0 ? { readsPerCert: reads / issued, writesPerCert: writes / issued } : {}),
        failures: sumOf(final, "meshid_issuance_failures_total"),
        queueRetries: sumOf(final, "meshid_queue_retries"),
      },
      apiServerRequests,
      cpuSeconds,
      validation,
      operatorLog,
    };
  } finally {
    rss.end();
    watch.stop();
    if (op.running) await op.stop();
    track(undefined);
  }
}
