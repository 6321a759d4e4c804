/**
 * Just enough of the Prometheus text format to read the operator's and the API server's /metrics:
 * samples with labels, sums over a metric, and quantiles of a histogram estimated the way
 * PromQL's histogram_quantile does (linear within the bucket).
 */

/** Sample is one line of the exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const lineRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** parseMetrics parses an exposition; with `only`, keeps the samples of names starting with it. */
export function parseMetrics(text: string, only?: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (only && !line.startsWith(only)) continue;
    const m = lineRe.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(labelRe)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, "$1");
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** sumOf adds the samples of one metric whose labels include `match`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  match: Record<string, string> = {},
): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** requestCounts sums the API server's apiserver_request_total by "VERB resource[/subresource]". */
export function requestCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of parseMetrics(text, "apiserver_request_total{")) {
    const sub = s.labels.subresource ? `/${s.labels.subresource}` : "";
    const key = `${s.labels.verb} ${s.labels.resource}${sub}`;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Bucket is one cumulative histogram bucket. */
export interface Bucket {
  le: number;
  count: number;
}

/** histogramBuckets returns the cumulative buckets of a histogram, summed over other labels. */
export function histogramBuckets(samples: readonly Sample[], name: string): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** subtractBuckets is `after - before` bucket by bucket (a histogram's growth over a window). */
export function subtractBuckets(after: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  return after.map((b) => ({
    le: b.le,
    count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0),
  }));
}

/** HistogramQuantile is an estimate; `above` says it fell in the +Inf bucket (value is a floor). */
export interface HistogramQuantile {
  value: number;
  above: boolean;
}

/** histogramQuantile estimates quantile q (0..1) like PromQL; undefined for an empty histogram. */
export function histogramQuantile(
  q: number,
  buckets: readonly Bucket[],
): HistogramQuantile | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return { value: prevLe, above: true };
      const inBucket = b.count - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 1;
      return { value: prevLe + (b.le - prevLe) * frac, above: false };
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return { value: prevLe, above: true };
}
