/**
 * The operator under test: the real process (`node --import tsx operator/main.ts`, never the tsx
 * CLI, whose second process a kill would orphan), started through the control plane's
 * startProcess so a watchdog stops it if the benchmark dies, with its metrics and health ports.
 */
import * as http from "node:http";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startProcess, stopProcess, isRunning, type ManagedProcess } from "../controlplane/process";
import { repoRoot } from "../controlplane/testbin";
import { parseMetrics, type Sample } from "./prom";
import { freePort, sleep } from "./util";

/**
 * imageNodeFlags are the node options of the image's ENTRYPOINT (`["node", ...flags, "x.js"]`),
 * so the compiled operator runs here exactly as it is shipped.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (!entry) throw new Error("Dockerfile: no ENTRYPOINT in exec form");
  const argv = JSON.parse(entry) as string[];
  if (argv[0] !== "node") throw new Error(`Dockerfile: ENTRYPOINT runs ${argv[0]}, not node`);
  return argv.slice(1).filter((a) => a.startsWith("-"));
}

/** operatorNamespace holds the operator's CA Secrets; the first operator bootstraps the CA. */
export const operatorNamespace = "meshid-bench-system";

/** LogSummary is the operator's log by "level: message", with up to 3 lines of each. */
export interface LogSummary {
  counts: Record<string, number>;
  examples: Record<string, string[]>;
}

/** StartOptions configures one operator process. */
export interface StartOptions {
  kubeconfig: string;
  logFile: string;
  concurrency?: number;
  /** profileDir turns on --cpu-prof and --heap-prof, written there when the process exits. */
  profileDir?: string;
  /** operatorJs is a compiled main.js to run instead of operator/main.ts through tsx. */
  operatorJs?: string;
}

/** BenchOperator is one running operator process. */
export class BenchOperator {
  private constructor(
    private readonly proc: ManagedProcess,
    readonly metricsPort: number,
    readonly healthPort: number,
    readonly logFile: string,
  ) {}

  /** start spawns the operator; it does not wait for readiness. */
  static async start(opts: StartOptions): Promise<BenchOperator> {
    const metricsPort = await freePort();
    const healthPort = await freePort();
    const profiling = opts.profileDir
      ? [
          "--cpu-prof",
          `--cpu-prof-dir=${opts.profileDir}`,
          "--heap-prof",
          `--heap-prof-dir=${opts.profileDir}`,
        ]
      : [];
    const proc = startProcess({
      name: "meshid-operator",
      bin: process.execPath,
      args: [
        ...profiling,
        ...(opts.operatorJs
          ? [...imageNodeFlags(), resolve(opts.operatorJs)]
          : ["--import", "tsx", join(repoRoot, "operator", "main.ts")]),
        `--kubeconfig=${opts.kubeconfig}`,
        `--namespace=${operatorNamespace}`,
        "--leader-elect=false",
        "--webhook-port=0",
        `--metrics-port=${metricsPort}`,
        `--health-port=${healthPort}`,
        "--bind-address=127.0.0.1",
        "--log-level=warn",
        ...(opts.concurrency ? [`--concurrency=${opts.concurrency}`] : []),
      ],
      logFile: opts.logFile,
      ownerPid: process.pid,
      // As the image runs it (Dockerfile: ENV NODE_ENV=production).
      ...(opts.operatorJs ? { env: { NODE_ENV: "production" } } : {}),
    });
    return new BenchOperator(proc, metricsPort, healthPort, opts.logFile);
  }

  /** pid is the operator's process id (the node process itself). */
  get pid(): number {
    return this.proc.pid;
  }

  /** running is true while the process lives. */
  get running(): boolean {
    return isRunning(this.proc.pid, this.proc.bin);
  }

  /** waitReady polls /readyz until it answers 200; throws if the process exits or time runs out. */
  async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`operator exited; last log lines:\n${this.logTail()}`);
      if ((await this.get(this.healthPort, "/readyz")).status === 200) return;
      await sleep(100);
    }
    throw new Error(`operator not ready after ${timeoutMs / 1000} s:\n${this.logTail()}`);
  }

  /** healthy asks /healthz once, as kubelet's liveness probe would (1 s timeout by default). */
  async healthy(timeoutMs = 1000): Promise<boolean> {
    return (await this.get(this.healthPort, "/healthz", timeoutMs)).status === 200;
  }

  /** scrape reads /metrics, trying up to `attempts` times (a busy operator may time out). */
  async scrape(attempts = 3): Promise<Sample[]> {
    for (let i = 1; ; i++) {
      const { status, body } = await this.get(this.metricsPort, "/metrics");
      if (status === 200) return parseMetrics(body);
      if (i >= attempts)
        throw new Error(`operator /metrics answered ${status || "nothing"} ${i} times`);
      await sleep(1000);
    }
  }

  /** stop sends SIGTERM (the operator shuts down and writes any profile), then SIGKILL. */
  async stop(): Promise<void> {
    await stopProcess(this.proc, 30_000);
  }

  /** logSummary counts the operator's JSON log lines by level and message, with examples. */
  logSummary(): LogSummary {
    const counts: Record<string, number> = {};
    const examples: Record<string, string[]> = {};
    for (const line of this.logLines()) {
      let key = line.slice(0, 120);
      try {
        const entry = JSON.parse(line) as { level?: string; message?: string };
        key = `${entry.level ?? "?"}: ${entry.message ?? "?"}`;
      } catch {
        // not JSON (a stack trace, a profiler notice): counted as it is
      }
      counts[key] = (counts[key] ?? 0) + 1;
      const kept = (examples[key] ??= []);
      if (kept.length < 3) kept.push(line.slice(0, 600));
    }
    return { counts, examples };
  }

  /** logTail is the last lines of the log. */
  logTail(lines = 15): string {
    return this.logLines().slice(-lines).join("\n");
  }

  private logLines(): string[] {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  private get(
    port: number,
    path: string,
    timeoutMs = 10_000,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path, timeout: timeoutMs }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", () => resolve({ status: 0, body: "" }));
      req.on("timeout", () => req.destroy());
    });
  }
}
