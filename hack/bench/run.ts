/**
 * make bench: issuance latency, a cold start, memory, API cost and PKI speed of the real operator
 * on its own local control plane. `--help` lists the flags. Everything it starts (control plane,
 * operators) is stopped and its temporary directory removed on exit, on Ctrl-C and on errors;
 * watchdogs stop the processes even if this one is killed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { BenchCluster } from "./cluster";
import { runColdStart } from "./cold-start";
import { cleanLatencyPhase, runLatencyPhase } from "./latency";
import { BenchOperator, operatorNamespace } from "./operator-process";
import {
  defaultOperatorJs,
  helpText,
  OptionsError,
  parseOptions,
  timestampForFile,
  type BenchOptions,
} from "./options";
import { runPkiBench } from "./pki-bench";
import { summarizeProfileFile } from "./profile-summary";
import {
  formatCurve,
  formatDetails,
  formatGoals,
  judgeGoals,
  type BenchResult,
  type CurvePoint,
} from "./report";
import { readMemory } from "./proc";
import { join as joinPath } from "node:path";
import { repoRoot } from "../controlplane/testbin";
import { errorText, say } from "./util";

/** commitOf names the code under test: the commit, "+dirty" if operator/ or api/ changed since. */
function commitOf(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "operator", "api") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

let cluster: BenchCluster | undefined;
let clusterDir: string | undefined;
let operator: BenchOperator | undefined;
let tearingDown: Promise<void> | undefined;

/** teardown stops the operator and the control plane and removes the temporary directory. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    if (operator?.running) await operator.stop().catch(() => undefined);
    if (cluster) await cluster.stop().catch((e: unknown) => say(`teardown: ${errorText(e)}`));
    else if (clusterDir) {
      // Interrupted while starting: the watchdogs stop the processes once this one exits.
      rmSync(clusterDir, { recursive: true, force: true });
    }
  })();
  return tearingDown;
}

function onSignal(signal: NodeJS.Signals): void {
  say(`\n${signal}: stopping the operator and the control plane`);
  void teardown().finally(() => process.exit(130));
}

function findProfile(dir: string, ext: string): string | undefined {
  const f = readdirSync(dir).find((n) => n.endsWith(ext));
  return f ? join(dir, f) : undefined;
}

/** buildOperator compiles the operator as the image build does (`npm run build`). */
function buildOperator(): void {
  say("build: npm run build (the operator runs compiled, as the image runs it)");
  execFileSync("npm", ["run", "--silent", "build"], { stdio: ["ignore", "inherit", "inherit"] });
}

/** startCluster starts a fresh control plane with the operator's namespace. */
async function startCluster(): Promise<BenchCluster> {
  clusterDir = BenchCluster.makeTempDir();
  say(`control plane: starting in ${clusterDir}`);
  cluster = await BenchCluster.start(clusterDir, (m) => say(`control plane: ${m}`));
  await cluster.createNamespace(operatorNamespace);
  return cluster;
}

/**
 * runCurve runs one cold start per size, each on a fresh control plane whose CA a first operator
 * bootstrapped (its RSS once ready is the size's idle figure).
 */
async function runCurve(
  opts: BenchOptions,
  sizes: number[],
  track: (op: BenchOperator | undefined) => void,
): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const pods of sizes) {
    const c = await startCluster();
    const boot = await BenchOperator.start({
      kubeconfig: c.kubeconfigPath,
      logFile: joinPath(c.dir, "operator-bootstrap.log"),
      ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
    });
    track(boot);
    await boot.waitReady();
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = readMemory(boot.pid)?.rss;
    await boot.stop();
    track(undefined);
    say(`curve: ${pods} pods`);
    const cold = await runColdStart(
      c,
      {
        pods,
        createConcurrency: opts.createConcurrency,
        settleSeconds: Math.min(opts.settleSeconds, 5),
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
        ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
      },
      track,
    );
    points.push({
      pods,
      complete: cold.complete,
      ...(cold.issuedWithin !== undefined ? { seconds: cold.issuedWithin } : {}),
      peakRss: Math.max(cold.memory.peakRss, cold.memory.hwm),
      ...(idleRss !== undefined ? { idleRss } : {}),
      valid: cold.validation.valid,
      ...(cold.eventLoop ? { eventLoop: cold.eventLoop } : {}),
      probes: cold.probes,
      writesPerCert: cold.api.writesPerCert,
      cpuSeconds: cold.cpuSeconds,
    });
    say("control plane: stopping");
    await teardown();
    tearingDown = undefined;
    cluster = undefined;
  }
  return points;
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const t0 = performance.now();
  if (!opts.tsx && !opts.operatorJs) {
    buildOperator();
    opts = { ...opts, operatorJs: defaultOperatorJs };
  }
  const result: BenchResult = {
    startedAt: new Date().toISOString(),
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model ?? "unknown",
      memTotalBytes: totalmem(),
      node: process.version,
      kubeVersion: "?",
      commit: commitOf(),
      loadAvgStart: loadavg(),
    },
    options: { ...opts },
    goals: [],
    notes: [],
  };
  if (!opts.skipPki && !opts.curve) {
    say(`pki: P-256 issuance vs raw node:crypto, ${opts.seconds} s per case`);
    result.pki = await runPkiBench({
      seconds: opts.seconds,
      concurrency: [1, 4, 8],
      log: (l) => say(`pki: ${l.trim()}`),
    });
  }
  const track = (op: BenchOperator | undefined) => {
    operator = op;
    if (op && tearingDown) void op.stop(); // started while an interrupt was being handled
  };
  if (opts.curve) {
    result.curve = await runCurve(opts, opts.curve, track);
    result.machine.loadAvgEnd = loadavg();
    result.finishedAt = new Date().toISOString();
    result.durationSeconds = (performance.now() - t0) / 1000;
    result.goals = judgeGoals(result);
    return result;
  }
  cluster = await startCluster();
  result.machine.kubeVersion = await cluster.version();

  result.latency = await runLatencyPhase(
    cluster,
    {
      pods: opts.pods,
      rate: opts.rate,
      steps: opts.rateSteps,
      stepSeconds: opts.stepSeconds,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
    },
    track,
  );
  if (!(await cleanLatencyPhase(cluster, opts.rateSteps.length)))
    result.notes.push("phase 1's namespace was still terminating when phase 2 started");

  const profileDir = opts.profile
    ? join(dirname(resolve(opts.json)), `profile-${timestampForFile(new Date(result.startedAt))}`)
    : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  result.coldStart = await runColdStart(
    cluster,
    {
      pods: opts.coldPods,
      createConcurrency: opts.createConcurrency,
      settleSeconds: opts.settleSeconds,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(profileDir ? { profileDir } : {}),
      ...(opts.operatorJs ? { operatorJs: opts.operatorJs } : {}),
    },
    track,
  );
  if (profileDir) {
    const cpu = findProfile(profileDir, ".cpuprofile");
    const heap = findProfile(profileDir, ".heapprofile");
    result.profile = {
      dir: profileDir,
      ...(cpu ? { cpu: summarizeProfileFile(cpu, 25) } : {}),
      ...(heap ? { heap: summarizeProfileFile(heap, 15) } : {}),
    };
    result.notes.push("profiled run: the cold start's timings include the profilers' overhead");
  }
  const rate = result.coldStart.overallPerSecond;
  if (opts.coldPods < 10_000)
    result.notes.push(
      `the 10,000-pod goals were run at ${opts.coldPods} pods: "n/a" unless already missed; run with --cold-pods 10000 to judge them` +
        (rate
          ? ` (at this run's ${rate.toFixed(0)} certs/s, 10,000 pods would take about ${(10_000 / rate).toFixed(0)} s: an extrapolation, not a measurement)`
          : ""),
    );
  say("control plane: stopping");
  await teardown();
  cluster = undefined;
  result.machine.loadAvgEnd = loadavg();
  result.finishedAt = new Date().toISOString();
  result.durationSeconds = (performance.now() - t0) / 1000;
  result.goals = judgeGoals(result);
  return result;
}

async function main(): Promise<void> {
  process.chdir(repoRoot);
  let opts: BenchOptions | undefined;
  try {
    opts = parseOptions(process.argv.slice(2), new Date());
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    say(`bench: ${err.message}`);
    process.exit(2);
  }
  if (!opts) {
    process.stdout.write(`${helpText}\n`);
    return;
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("unhandledRejection", (reason) => {
    if (tearingDown) return; // requests cut off by the teardown
    void fail(reason);
  });
  const result = await run(opts);
  mkdirSync(dirname(resolve(opts.json)), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  const curve = result.curve ? `${formatCurve(result.curve)}\n\n` : "";
  process.stdout.write(
    `\n${formatDetails(result)}\n\n${curve}${formatGoals(result.goals)}\n\nWrote ${opts.json} (${result.durationSeconds?.toFixed(0)} s in all)\n`,
  );
}

async function fail(err: unknown): Promise<never> {
  const interrupted = tearingDown !== undefined;
  if (!interrupted) {
    say(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (operator) say(`operator log (last lines):\n${operator.logTail()}`);
  }
  await teardown();
  process.exit(interrupted ? 130 : 1);
}

main()
  .then(() => process.exit(0))
  .catch(fail);
