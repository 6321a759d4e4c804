/**
 * profile-summary aggregates a V8 CPU profile (.cpuprofile, from node --cpu-prof) by self time, or
 * a sampling heap profile (.heapprofile, from node --heap-prof: what is still allocated at exit)
 * by self size, per function and per area (a package under node_modules, a directory of this
 * repository, node's internals, or V8's pseudo-frames like "(garbage collector)").
 *
 *   node --import tsx hack/bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile [--top N]
 */
import { readFileSync } from "node:fs";
import { repoRoot } from "../controlplane/testbin";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** ProfileRow is one function or area with its self time (ms) or self size (bytes). */
export interface ProfileRow {
  name: string;
  self: number;
  /** share of the total, excluding "(idle)" for CPU profiles. */
  share: number;
}

/** ProfileSummary is the aggregated profile. */
export interface ProfileSummary {
  kind: "cpu" | "heap";
  /** total is busy milliseconds (CPU, without idle) or live bytes (heap). */
  total: number;
  /** idle is the idle milliseconds of a CPU profile. */
  idle?: number;
  byFunction: ProfileRow[];
  byArea: ProfileRow[];
  /**
   * byCallerArea (CPU) charges time spent in node's internals and native code to the nearest
   * caller in a package or in this repository: "asn1js" then includes the Buffers it allocates.
   */
  byCallerArea?: ProfileRow[];
  /** ownInclusive (CPU) is the inclusive time of this repository's functions (self + callees). */
  ownInclusive?: ProfileRow[];
}

/** shortUrl makes a script URL readable: repo-relative, or package-relative under node_modules. */
export function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("/node_modules/");
  if (nm >= 0) return u.slice(nm + "/node_modules/".length);
  if (u.startsWith(`${repoRoot}/`)) u = u.slice(repoRoot.length + 1);
  return u;
}

/** areaOf names the part of the program a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (frame.url.startsWith("node:")) return "node internals";
  const u = frame.url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = u.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (u.startsWith(`${repoRoot}/`)) {
    const parts = u.slice(repoRoot.length + 1).split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return "other";
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  return frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

function rows(totals: Map<string, number>, total: number, top: number): ProfileRow[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, self]) => ({ name, self, share: total > 0 ? self / total : 0 }));
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

const runtimeAreas = new Set(["node internals", "(native)"]);
const ownAreas = /^(dist\/)?(operator|api|hack)\b/;

/** summarizeCpuProfile aggregates self time: each sample is charged the time until the next. */
export function summarizeCpuProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byCallerArea = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const frame = frames.get(id);
    if (!frame) continue;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (frame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    busy += ms;
    add(byFunction, functionKey(frame), ms);
    const area = areaOf(frame);
    add(byArea, area, ms);
    let caller = area;
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = frames.get(at)!;
      const a = areaOf(f);
      if (runtimeAreas.has(caller) && !runtimeAreas.has(a) && !a.startsWith("(")) caller = a;
      if (ownAreas.test(a)) onStack.add(`${f.functionName || "(anonymous)"} ${shortUrl(f.url)}`);
    }
    add(byCallerArea, caller, ms);
    for (const k of onStack) add(ownInclusive, k, ms);
  }
  return {
    kind: "cpu",
    total: busy,
    idle,
    byFunction: rows(byFunction, busy, top),
    byArea: rows(byArea, busy, top),
    byCallerArea: rows(byCallerArea, busy, top),
    ownInclusive: rows(ownInclusive, busy, top),
  };
}

/** summarizeHeapProfile aggregates the live bytes of a sampling heap profile by allocating frame. */
export function summarizeHeapProfile(profile: { head: HeapNode }, top = 20): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  const stack: HeapNode[] = [profile.head];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(byFunction, functionKey(node.callFrame), node.selfSize);
      add(byArea, areaOf(node.callFrame), node.selfSize);
    }
    stack.push(...node.children);
  }
  return {
    kind: "heap",
    total,
    byFunction: rows(byFunction, total, top),
    byArea: rows(byArea, total, top),
  };
}

/** summarizeProfileFile reads a .cpuprofile or .heapprofile and summarises it. */
export function summarizeProfileFile(file: string, top = 20): ProfileSummary {
  const json = JSON.parse(readFileSync(file, "utf8")) as CpuProfile & { head?: HeapNode };
  return json.head
    ? summarizeHeapProfile(json as { head: HeapNode }, top)
    : summarizeCpuProfile(json, top);
}

/** formatProfileSummary renders a summary as two small tables. */
export function formatProfileSummary(s: ProfileSummary): string {
  const unit = (v: number) =>
    s.kind === "cpu" ? `${(v / 1000).toFixed(2)} s` : `${(v / 1e6).toFixed(1)} MB`;
  const table = (title: string, rs: ProfileRow[]) => [
    title,
    ...rs.map(
      (r) =>
        `  ${unit(r.self).padStart(10)}  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}`,
    ),
  ];
  const head =
    s.kind === "cpu"
      ? `CPU profile: ${unit(s.total)} busy (${unit(s.idle ?? 0)} idle not counted)`
      : `Heap profile (sampled, live at exit): ${unit(s.total)}`;
  const what = s.kind === "cpu" ? "self time" : "self size";
  return [
    head,
    ...table(`by area (${what}):`, s.byArea),
    ...(s.byCallerArea
      ? table("by area, node internals and native code charged to their caller:", s.byCallerArea)
      : []),
    ...table(`by function (${what}):`, s.byFunction),
    ...(s.ownInclusive
      ? table("this repository's functions, inclusive time (self + callees):", s.ownInclusive)
      : []),
  ].join("\n");
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 20;
  const file = args.find((a, i) => !a.startsWith("--") && (topAt < 0 || i !== topAt + 1));
  if (!file || !(top > 0)) {
    process.stderr.write("usage: profile-summary.ts FILE.cpuprofile|FILE.heapprofile [--top N]\n");
    process.exit(2);
  }
  process.stdout.write(`${formatProfileSummary(summarizeProfileFile(file, top))}\n`);
}
