/**
 * The benchmark's report: the goals of issue 16 against what was measured, and the details behind
 * each figure, as plain text; the JSON file holds the same result object.
 */
import type { PkiBenchResult } from "./pki-bench";
import type { LatencyResult } from "./latency";
import type { ColdStartResult } from "./cold-start";
import type { QueueSample } from "./queue-sampler";
import type { ProfileSummary } from "./profile-summary";
import { formatProfileSummary } from "./profile-summary";
import type { HistogramQuantile } from "./prom";
import { count, mb, seconds, type Window } from "./util";

/** Machine describes where the run happened. */
export interface Machine {
  nproc: number;
  cpu: string;
  memTotalBytes: number;
  node: string;
  kubeVersion: string;
  /** commit is the checked-out commit, "+dirty" when operator/ or api/ differ from it. */
  commit: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

/** GoalRow is one line of the goals table. */
export interface GoalRow {
  goal: string;
  target: string;
  measured: string;
  met: "yes" | "no" | "n/a";
}

/** BenchResult is everything one run measured; it is also the JSON file's content. */
export interface BenchResult {
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  machine: Machine;
  options: Record<string, unknown>;
  pki?: PkiBenchResult;
  latency?: LatencyResult;
  coldStart?: ColdStartResult;
  profile?: { dir: string; cpu?: ProfileSummary; heap?: ProfileSummary };
  /** curve is set by --curve: one cold start per size. */
  curve?: CurvePoint[];
  goals: GoalRow[];
  notes: string[];
}

/** CurvePoint is one cold start of the scaling curve. */
export interface CurvePoint {
  pods: number;
  complete: boolean;
  seconds?: number;
  peakRss: number;
  /** idleRss is the bootstrap operator's RSS once ready, before any pod. */
  idleRss?: number;
  valid: number;
  eventLoop?: { p50: number; p99: number; max: number };
  probes: {
    healthz: { tried: number; answered: number };
    metrics: { tried: number; answered: number };
  };
  writesPerCert?: number;
  cpuSeconds: Record<string, number>;
}

const yesNo = (ok: boolean): GoalRow["met"] => (ok ? "yes" : "no");

const ms = (s: number | undefined) => (s === undefined ? "n/a" : `${(s * 1000).toFixed(0)} ms`);

/** perThousand is the seconds and MB (above idle) per 1,000 pods of a curve point. */
function perThousand(p: CurvePoint): { seconds?: number; mb?: number } {
  return {
    ...(p.seconds !== undefined ? { seconds: (p.seconds / p.pods) * 1000 } : {}),
    ...(p.idleRss !== undefined ? { mb: ((p.peakRss - p.idleRss) / 1e6 / p.pods) * 1000 } : {}),
  };
}

/** formatCurve renders the scaling table of --curve. */
export function formatCurve(points: readonly CurvePoint[]): string {
  const header = [
    "pods",
    "all Secrets",
    "s / 1,000 pods",
    "peak RSS",
    "idle RSS",
    "MB / 1,000 pods",
    "loop p99 / max",
    "healthz",
    "metrics",
    "valid",
  ];
  const body = points.map((p) => {
    const k = perThousand(p);
    return [
      count(p.pods),
      p.complete ? seconds(p.seconds, 1) : "incomplete",
      k.seconds?.toFixed(2) ?? "n/a",
      mb(p.peakRss),
      mb(p.idleRss),
      k.mb?.toFixed(1) ?? "n/a",
      p.eventLoop ? `${ms(p.eventLoop.p99)} / ${ms(p.eventLoop.max)}` : "n/a",
      `${p.probes.healthz.answered}/${p.probes.healthz.tried}`,
      `${p.probes.metrics.answered}/${p.probes.metrics.tried}`,
      `${count(p.valid)}/${count(p.pods)}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [
    "Scaling curve (one cold start per size, each on a fresh control plane; MB per 1,000 pods = peak RSS above idle):",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
  ].join("\n");
}

/** judgeGoals compares the measurements with the goals (reported, never asserted). */
export function judgeGoals(r: BenchResult): GoalRow[] {
  const rows: GoalRow[] = [];
  const lat = r.latency;
  if (lat) {
    const p99 = lat.client.p99;
    const all = lat.withSecret === lat.pods;
    rows.push({
      goal: "p99 pod creation -> Secret at 100 pods/s",
      target: "< 100 ms",
      measured: `${ms(p99)} (${count(lat.pods)} pods at ${lat.achievedRate.toFixed(1)}/s${all ? "" : `, ${lat.withSecret} got one`})`,
      met: Math.abs(lat.rate - 100) > 1 ? "n/a" : yesNo(all && p99 !== undefined && p99 < 0.1),
    });
    const saturated = lat.steps.find(
      (s) => s.p99 === undefined || s.p99 >= 0.1 || s.withSecret < s.pods,
    );
    if (lat.steps.length)
      rows.push({
        goal: "rate where p99 first reaches 100 ms",
        target: "(reported)",
        measured: saturated
          ? `${saturated.rate}/s (p99 ${ms(saturated.p99)}, pod creates p99 ${ms(saturated.createP99)})`
          : `not within ${lat.steps.map((s) => s.rate).join(", ")}/s`,
        met: "n/a",
      });
  }
  const cold = r.coldStart;
  if (cold) {
    const full = cold.pods >= 10_000;
    const t = cold.issuedWithin;
    const slow = !cold.complete || (t !== undefined && t >= 30 * (cold.pods / 10_000));
    rows.push({
      goal: "10,000 pods issued (cold start)",
      target: "< 30 s",
      measured: cold.complete
        ? `${count(cold.pods)} pods in ${seconds(t, 1)} (${cold.overallPerSecond?.toFixed(0)}/s)`
        : `incomplete: ${count(cold.validation.valid)}/${count(cold.pods)} pods`,
      met: full ? yesNo(!slow) : "n/a",
    });
    const peak = Math.max(cold.memory.peakRss, cold.memory.hwm);
    rows.push({
      goal: "operator peak RSS at 10,000 pods",
      target: "< 200 MB",
      measured: `${mb(peak)} at ${count(cold.pods)} pods (steady ${mb(cold.memory.steadyRss)})`,
      met: full ? yesNo(peak < 200e6) : peak >= 200e6 ? "no" : "n/a",
    });
    const loop = cold.eventLoop;
    rows.push({
      goal: "event-loop delay, spawn to last Secret",
      target: "p99 < 50 ms, max < 200 ms",
      measured: loop ? `p99 ${ms(loop.p99)}, max ${ms(loop.max)} (10 ms sampling included)` : "n/a",
      met: loop ? yesNo(loop.p99 < 0.05 && loop.max < 0.2) : "no",
    });
    const { healthz, metrics } = cold.probes;
    rows.push({
      goal: "/healthz (1 s) and /metrics (5 s) answered",
      target: "all",
      measured: `healthz ${healthz.answered}/${healthz.tried}, metrics ${metrics.answered}/${metrics.tried}`,
      met: yesNo(healthz.answered === healthz.tried && metrics.answered === metrics.tried),
    });
    const w = cold.api.writesPerCert;
    rows.push({
      goal: "write requests per issued certificate",
      target: "<= 1.02",
      measured:
        w === undefined
          ? "n/a (nothing issued)"
          : `${w.toFixed(3)} writes, ${cold.api.readsPerCert?.toFixed(3)} reads`,
      met: w === undefined ? "n/a" : yesNo(w <= 1.02),
    });
    rows.push({
      goal: "Secrets verified by the benchmark",
      target: "all",
      measured: `${count(cold.validation.valid)}/${count(cold.pods)}`,
      met: yesNo(cold.validation.valid === cold.pods),
    });
  }
  if (r.curve && r.curve.length >= 2) {
    const ks = r.curve.map(perThousand);
    const first = ks[0]?.seconds;
    const last = ks.at(-1)?.seconds;
    const big = r.curve.at(-1)!;
    rows.push({
      goal: "cold start linear: s per 1,000 pods, largest vs smallest",
      target: "<= 1.5x",
      measured:
        first !== undefined && last !== undefined
          ? `${last.toFixed(2)} vs ${first.toFixed(2)} s (${(last / first).toFixed(2)}x; ${count(big.pods)} pods in ${seconds(big.seconds, 1)})`
          : "incomplete",
      met: first !== undefined && last !== undefined ? yesNo(last / first <= 1.5) : "no",
    });
  }
  if (r.pki) {
    const b = r.pki.best;
    rows.push({
      goal: "issuance code vs raw node:crypto (P-256)",
      target: ">= 25%",
      measured: `${(b.ratio * 100).toFixed(1)}% (${b.meshidPerSecond.toFixed(0)} vs ${b.rawPerSecond.toFixed(0)} certs/s)`,
      met: yesNo(b.ratio >= 0.25),
    });
  }
  return rows;
}

/** formatGoals renders the goals table. */
export function formatGoals(rows: readonly GoalRow[]): string {
  const header = ["goal", "target", "measured", "met?"];
  const body = rows.map((r) => [r.goal, r.target, r.measured, r.met]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function throughputLines(ws: readonly Window[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ws.length; i += 12) {
    const row = ws.slice(i, i + 12);
    const label = `${row[0]!.from.toFixed(0)}-${row.at(-1)!.to.toFixed(0)} s:`.padStart(13);
    out.push(`   ${label} ${row.map((w) => w.perSecond.toFixed(0).padStart(4)).join("")}`);
  }
  return out;
}

function queueLines(qs: readonly QueueSample[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < qs.length; i += 6) {
    const row = qs.slice(i, i + 6);
    out.push(
      `   ${row
        .map((q) =>
          q.unanswered
            ? `${q.t.toFixed(0)}s no answer in ${q.scrapeSeconds.toFixed(0)} s`
            : `${q.t.toFixed(0)}s ${q.pods}/${q.issued}/${q.lagMax.toFixed(2)}s`,
        )
        .join("  ")}`,
    );
  }
  return out;
}

function quantile(q: HistogramQuantile | undefined): string {
  if (!q) return "n/a";
  return q.above ? `> ${q.value} s` : `~${q.value.toFixed(3)} s`;
}

/** formatDetails renders the figures behind the goals. */
export function formatDetails(r: BenchResult): string {
  const m = r.machine;
  const out: string[] = [
    `meshid bench, ${r.startedAt}: ${m.nproc} CPUs (${m.cpu}), ${(m.memTotalBytes / 2 ** 30).toFixed(1)} GiB RAM, node ${m.node}, kube-apiserver ${m.kubeVersion}, meshid ${m.commit}`,
    `load average at start ${m.loadAvgStart.map((l) => l.toFixed(2)).join(" ")}${m.loadAvgEnd ? `, at end ${m.loadAvgEnd.map((l) => l.toFixed(2)).join(" ")}` : ""}`,
    "etcd, kube-apiserver and kube-controller-manager run on the same cores as the operator and this client.",
  ];
  const lat = r.latency;
  if (lat) {
    out.push(
      "",
      `1. Latency: ${count(lat.pods)} pods at ${lat.rate}/s (achieved ${lat.achievedRate.toFixed(2)}/s, max slip ${seconds(lat.maxSlipSeconds, 3)}); ${count(lat.withSecret)} got a Secret`,
      `   pod create sent -> Secret ADDED on a client watch: p50 ${seconds(lat.client.p50, 3)}  p95 ${seconds(lat.client.p95, 3)}  p99 ${seconds(lat.client.p99, 3)}  max ${seconds(lat.client.max, 3)}`,
      `   (the pod create request itself: p50 ${seconds(lat.createRequest.p50, 3)}, p99 ${seconds(lat.createRequest.p99, 3)})`,
      `   operator histogram meshid_issuance_latency_seconds (first seen -> Secret written, ${count(lat.operatorHistogram.count)} obs.): p50 ${quantile(lat.operatorHistogram.p50)}  p95 ${quantile(lat.operatorHistogram.p95)}  p99 ${quantile(lat.operatorHistogram.p99)} (bucket interpolation)`,
      ...lat.steps.map(
        (st) =>
          `   step ${st.rate}/s (${count(st.pods)} pods, achieved ${st.achievedRate.toFixed(0)}/s, ${count(st.withSecret)} got a Secret): p50 ${ms(st.p50)}  p99 ${ms(st.p99)}  max ${ms(st.max)}; pod creates p99 ${ms(st.createP99)}`,
      ),
    );
  }
  const c = r.coldStart;
  if (c) {
    const cpuTotal = Object.values(c.cpuSeconds).reduce((a, b) => a + (b || 0), 0);
    const window = c.issuedWithin ?? 0;
    out.push(
      "",
      `2. Cold start: ${count(c.pods)} pods created with the operator stopped in ${seconds(c.create.seconds, 1)} (${c.create.perSecond.toFixed(0)}/s, ${c.create.concurrency} in parallel)`,
      `   operator spawn -> ready ${seconds(c.readyAfter, 1)}, first Secret ${seconds(c.firstSecretAfter, 1)}, ${c.complete ? `all Secrets ${seconds(c.issuedWithin, 1)} (${c.overallPerSecond?.toFixed(0)}/s overall)` : "NOT all Secrets"}`,
      `   share of pods holding a Secret, seconds after spawn: ${Object.entries(c.fractionIssued)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(", ")}, 100% ${c.issuedWithin?.toFixed(1) ?? "n/a"}`,
      `   last Secrets to appear (seen by the client / created by the API server, s after spawn): ${c.stragglers
        .map((s) => `${s.pod} ${s.seenAfter.toFixed(1)}/${s.createdAfter?.toFixed(0) ?? "?"}`)
        .join(", ")}`,
      "   certs/s per 5 s window since the operator's spawn:",
      ...throughputLines(c.throughput),
      "   every 5 s: pod queue depth (meshid_queue_depth) / certificates issued / longest event-loop delay since the last scrape:",
      ...queueLines(c.queue),
      `   event-loop delay from spawn to the last Secret (meshid_event_loop_delay_seconds, 10 ms sampling included): ${c.eventLoop ? `p50 ${ms(c.eventLoop.p50)}, p99 ${ms(c.eventLoop.p99)}, max ${ms(c.eventLoop.max)}` : "n/a"}`,
      `   probes answered after ready: /healthz ${c.probes.healthz.answered}/${c.probes.healthz.tried} (every 1 s, 1 s timeout), /metrics ${c.probes.metrics.answered}/${c.probes.metrics.tried} (every 5 s, 10 s timeout)`,
      `   valid Secrets: ${count(c.validation.valid)}/${count(c.pods)} (chain to ca.crt, SPIFFE ID, key matches, owner uid)${c.validation.problems.length ? `; e.g. ${c.validation.problems.slice(0, 3).join("; ")}` : ""}`,
      `   CPU seconds from spawn to last Secret (${seconds(window, 1)} x ${m.nproc} cores = ${(window * m.nproc).toFixed(0)} available): ${Object.entries(
        c.cpuSeconds,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(", ")} (total ${cpuTotal.toFixed(1)})`,
      "",
      `3. Memory (operator, /proc/<pid>/status every 250 ms): idle with no pods (phase 1) ${mb(r.latency?.idleRss)}; peak RSS ${mb(c.memory.peakRss)}, VmHWM ${mb(c.memory.hwm)}; at the last Secret ${mb(c.memory.rssAtCompletion)}; steady ${mb(c.memory.steadyRss)} ${c.memory.settleSeconds} s later (V8 heap used ${mb(c.memory.steadyHeapUsed)} of ${mb(c.memory.steadyHeapTotal)}, external ${mb(c.memory.steadyExternal)})`,
      "",
      ...(c.scrapeError
        ? [
            `   THE FINAL /metrics SCRAPE FAILED (${c.scrapeError}): the operator's figures below are missing`,
          ]
        : []),
      `4. API requests counted by the operator (meshid_api_requests) during the cold start: ${count(c.api.reads)} reads, ${count(c.api.writes)} writes for ${count(c.api.issued)} certificates issued = ${c.api.readsPerCert?.toFixed(3) ?? "n/a"} reads and ${c.api.writesPerCert?.toFixed(3) ?? "n/a"} writes per certificate; ${c.api.failures} issuance failures, ${c.api.queueRetries} queue retries`,
      "   Informer LIST/WATCH go through client-node and are not in that counter: O(1) per start (pages of 500), not per certificate.",
      `   The API server's own count over the same window (all clients): ${Object.entries(
        c.apiServerRequests,
      )
        .filter(([k]) => /^(POST|PUT|PATCH|DELETE|APPLY) /.test(k))
        .map(([k, v]) => `${k} ${count(v)}`)
        .join(", ")}`,
    );
    const warnings = Object.entries(c.operatorLog.counts).filter(([k]) => !k.startsWith("info"));
    for (const [k, v] of warnings)
      out.push(`   operator log: ${v} x "${k}", e.g. ${c.operatorLog.examples[k]?.[0] ?? ""}`);
  }
  if (r.pki) {
    const b = r.pki.best;
    out.push(
      "",
      `5. PKI (hack/bench/pki-bench.ts, ${r.pki.options.seconds} s per case, run before the control plane started): meshid ${b.meshidPerSecond.toFixed(0)} P-256 certs/s vs raw node:crypto keygen+sign ${b.rawPerSecond.toFixed(0)}/s = ${(b.ratio * 100).toFixed(1)}%`,
      ...r.pki.rows.map(
        (row) =>
          `   ${row.path.padEnd(14)} concurrency ${row.concurrency}: ${row.perSecond.toFixed(0)}/s${row.ratio !== undefined ? ` (${(row.ratio * 100).toFixed(1)}% of raw)` : ""}`,
      ),
    );
  }
  if (r.profile) {
    out.push("", `Profiles of the cold-start operator in ${r.profile.dir}:`);
    if (r.profile.cpu) out.push(formatProfileSummary(r.profile.cpu));
    if (r.profile.heap) out.push(formatProfileSummary(r.profile.heap));
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
