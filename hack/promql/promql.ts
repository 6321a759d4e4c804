/**
 * PromQL checks for the monitoring manifests: the metric names an expression selects, parsed by
 * Prometheus's own parser (hack/promql, Go), promtool built from the same Prometheus release, and
 * the names the operator exports, read from its metrics registry.
 */
import { spawnSync } from "node:child_process";
import { systemClock } from "../../operator/clock";
import { Metrics } from "../../operator/metrics";
import { buildGoTool } from "../go-tool";

/** ExprMetrics is what the parser found in one expression. */
export interface ExprMetrics {
  expr: string;
  metrics: string[];
  error?: string;
}

/** promqlMetrics parses each expression and lists the metrics it selects. */
export function promqlMetrics(exprs: string[]): ExprMetrics[] {
  const r = spawnSync(buildGoTool(__dirname), [], {
    input: JSON.stringify(exprs),
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  if (r.status === 2) throw new Error(`promql-metrics: ${r.stderr}`);
  return JSON.parse(r.stdout) as ExprMetrics[];
}

/**
 * promtoolBinary returns promtool of the Prometheus release hack/promql/go.mod pins (a `tool` of
 * that module), built from the Go module proxy on first use (minutes on 2 cores) and cached.
 */
export function promtoolBinary(): string {
  return buildGoTool(__dirname, "github.com/prometheus/prometheus/cmd/promtool", "promtool");
}

/** exportedMetricNames lists every series name the operator's /metrics can carry. */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = new Metrics(systemClock, {
    queues: () => ({}),
    requests: () => ({ reads: 0, writes: 0 }),
    isLeader: () => false,
    caNotAfter: () => undefined,
  });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(m.name + s);
  }
  return names;
}
