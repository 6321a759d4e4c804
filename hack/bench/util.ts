/**
 * Small helpers shared by the benchmark phases: percentiles, per-window rates, ports, sleeping,
 * progress lines and number formatting.
 */
import { freePort } from "../controlplane/control-plane";
export { freePort };

/** percentile is the nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Window is how many events fell into one time window. */
export interface Window {
  /** from and to are seconds since the phase's start. */
  from: number;
  to: number;
  count: number;
  perSecond: number;
}

/** windows counts event times (seconds since start) in consecutive windows up to `until`. */
export function windows(times: readonly number[], sizeSeconds: number, until: number): Window[] {
  const n = Math.max(1, Math.ceil(until / sizeSeconds));
  const counts = new Array<number>(n).fill(0);
  for (const t of times) counts[Math.min(n - 1, Math.max(0, Math.floor(t / sizeSeconds)))]!++;
  return counts.map((count, i) => {
    const from = i * sizeSeconds;
    const to = Math.min(until, (i + 1) * sizeSeconds);
    return { from, to, count, perSecond: to > from ? count / (to - from) : 0 };
  });
}

/** sleep resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** say writes one progress line to stderr (stdout carries only the report). */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** every calls `line` every `ms` and prints what it returns; the result stops it. */
export function every(ms: number, line: () => string): () => void {
  const timer = setInterval(() => say(line()), ms);
  return () => clearInterval(timer);
}

/** seconds formats a duration in seconds. */
export function seconds(s: number | undefined, digits = 2): string {
  return s === undefined ? "n/a" : `${s.toFixed(digits)} s`;
}

/** mb formats bytes as MB (10^6 bytes, as the goal is stated). */
export function mb(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${(bytes / 1e6).toFixed(0)} MB`;
}

/** count formats an integer with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** errorText is the message of anything thrown. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  const body = (err as { body?: { message?: string } } | undefined)?.body;
  return body?.message ?? String(err);
}
