/**
 * Flags of `make bench` (hack/bench/run.ts). Defaults finish within about 5 minutes on 2 cores.
 */
import { join } from "node:path";
import { repoRoot } from "../controlplane/testbin";

/** BenchOptions is what one benchmark run does. */
export interface BenchOptions {
  /** pods created at a steady rate in the latency phase. */
  pods: number;
  /** rate of pod creation in the latency phase, pods per second. */
  rate: number;
  /** coldPods exist before the operator starts in the cold-start phase. */
  coldPods: number;
  /** seconds each case of the PKI benchmark runs. */
  seconds: number;
  /** json is where the results are written. */
  json: string;
  /** concurrency is the operator's --concurrency; undefined keeps the operator's default. */
  concurrency?: number;
  /** createConcurrency is how many pod creations run at once in the cold-start phase. */
  createConcurrency: number;
  /** settleSeconds after the last issuance before the steady RSS is read. */
  settleSeconds: number;
  /** profile runs the cold-start operator with --cpu-prof and --heap-prof and summarises both. */
  profile: boolean;
  /** skipPki leaves out the PKI benchmark (quicker runs while working on the operator). */
  skipPki: boolean;
  /**
   * operatorJs is the compiled main.js to run (`node <operatorJs>`, as the image does); undefined
   * with `tsx` set runs operator/main.ts through tsx instead.
   */
  operatorJs?: string;
  /** tsx runs the operator through tsx (as the tests do) instead of the compiled build. */
  tsx: boolean;
  /** rateSteps are further latency steps after --rate, each --step-seconds long. */
  rateSteps: number[];
  /** stepSeconds is how long each of --rate-steps creates pods. */
  stepSeconds: number;
  /** curve, when set, runs only cold starts of these sizes, each on a fresh control plane. */
  curve?: number[];
}

/** defaultOperatorJs is what `npm run build` writes and the image runs. */
export const defaultOperatorJs = "dist/operator/main.js";

/** helpText is the text of --help. */
export const helpText = `usage: make bench [BENCH_ARGS="flags"]
       node --import tsx hack/bench/run.ts [flags]

Starts its own local control plane (etcd, kube-apiserver, kube-controller-manager) in a temporary
directory, installs manifests/crd, runs the real operator process, and measures:
  1. pod creation -> Secret latency (p50/p95/p99) for --pods pods created at --rate pods/s, then
     at each of --rate-steps;
  2. a cold start: --cold-pods pods created while the operator is stopped, then the time until
     every one holds a valid Secret, with throughput per 5 s, the operator's event-loop delay,
     and how many /healthz (every 1 s, 1 s timeout) and /metrics (every 5 s) probes it answered;
  3. the operator's peak RSS during 2 and its steady RSS --settle seconds after the last issuance;
  4. API requests per issued certificate (reads, writes) from the operator's /metrics;
  5. P-256 issuance through meshid's code against raw node:crypto (hack/bench/pki-bench.ts).
The operator runs compiled, as the image runs it (node dist/operator/main.js, NODE_ENV=production).
Prints a table of goals against measurements and writes the same figures as JSON.

flags:
  --pods N                 latency phase: pods created at --rate (default 1000)
  --rate R                 latency phase: pods created per second (default 100)
  --rate-steps R,R,...     latency phase: then the same for --step-seconds at each rate, to find
                           where latency saturates (default 200,400; "none" for none)
  --step-seconds S         seconds of each rate step (default 5)
  --cold-pods M            cold-start phase: pods created before the operator starts (default 10000)
  --curve N,N,...          instead of the phases above and the PKI benchmark: cold starts of N pods
                           each, every one on a fresh control plane, and the scaling table
                           (e.g. 1000,5000,10000,20000)
  --seconds S              PKI benchmark: seconds per case (default 5)
  --json PATH              results file (default bench-results/bench-<timestamp>.json)
  --concurrency N          the operator's --concurrency (default: the operator's own default)
  --create-concurrency N   parallel pod creations in the cold-start phase (default 24)
  --settle S               seconds after the last issuance before reading steady RSS (default 20)
  --profile                CPU and heap profile of the cold-start operator, summarised at the end
                           (profiles are kept next to the JSON; timings include profiler overhead)
  --skip-pki               leave out the PKI benchmark
  --operator-js PATH       the compiled operator to run (default ${defaultOperatorJs}, built first
                           with \`npm run build\`; a PATH given here is run as it is)
  --tsx                    run operator/main.ts through tsx (as the tests do) instead
  --help                   show this help`;

/** OptionsError is a bad flag; its message says which. */
export class OptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionsError";
  }
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new OptionsError(`${flag}: "${raw}" is not a positive integer`);
  return n;
}

function positiveNumber(flag: string, raw: string): number {
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n))
    throw new OptionsError(`${flag}: "${raw}" is not a positive number`);
  return n;
}

/** timestampForFile is an ISO timestamp usable in a file name. */
export function timestampForFile(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

/** parseOptions parses argv (`--flag value` or `--flag=value`); undefined means --help. */
export function parseOptions(argv: readonly string[], now: Date): BenchOptions | undefined {
  const opts: BenchOptions = {
    pods: 1000,
    rate: 100,
    coldPods: 10_000,
    tsx: false,
    rateSteps: [200, 400],
    stepSeconds: 5,
    seconds: 5,
    json: join(repoRoot, "bench-results", `bench-${timestampForFile(now)}.json`),
    createConcurrency: 24,
    settleSeconds: 20,
    profile: false,
    skipPki: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return undefined;
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flag === "--profile" || flag === "--skip-pki" || flag === "--tsx") {
      if (eq >= 0) throw new OptionsError(`${flag} takes no value`);
      if (flag === "--profile") opts.profile = true;
      else if (flag === "--tsx") opts.tsx = true;
      else opts.skipPki = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new OptionsError(`${flag} needs a value; see --help`);
    switch (flag) {
      case "--pods":
        opts.pods = positiveInt(flag, value);
        break;
      case "--rate":
        opts.rate = positiveNumber(flag, value);
        break;
      case "--cold-pods":
        opts.coldPods = positiveInt(flag, value);
        break;
      case "--seconds":
        opts.seconds = positiveNumber(flag, value);
        break;
      case "--json":
        opts.json = value;
        break;
      case "--concurrency":
        opts.concurrency = positiveInt(flag, value);
        break;
      case "--create-concurrency":
        opts.createConcurrency = positiveInt(flag, value);
        break;
      case "--settle":
        opts.settleSeconds = positiveNumber(flag, value);
        break;
      case "--operator-js":
        opts.operatorJs = value;
        break;
      case "--rate-steps":
        opts.rateSteps =
          value === "none" ? [] : value.split(",").map((v) => positiveNumber(flag, v.trim()));
        break;
      case "--step-seconds":
        opts.stepSeconds = positiveNumber(flag, value);
        break;
      case "--curve":
        opts.curve = value.split(",").map((v) => positiveInt(flag, v.trim()));
        break;
      default:
        throw new OptionsError(`unknown flag ${flag}; see --help`);
    }
  }
  if (opts.tsx && opts.operatorJs)
    throw new OptionsError("--tsx and --operator-js exclude each other");
  return opts;
}
