/**
 * Child processes of the local control plane: started with their output in a log file, tied to
 * an owner process by a watchdog so that nothing is orphaned when the owner dies without
 * cleaning up (a killed jest run, an interrupted `make test`), and stopped TERM-then-KILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";

/** ManagedProcess is one started binary of the control plane. */
export interface ManagedProcess {
  name: string;
  pid: number;
  bin: string;
  logFile: string;
  child?: ChildProcess;
}

/** StartProcessOptions says how to start one control-plane binary. */
export interface StartProcessOptions {
  name: string;
  bin: string;
  args: string[];
  logFile: string;
  /** When set, a watchdog stops the process as soon as this pid is gone. */
  ownerPid?: number;
  /** Detached processes outlive the starting process (make cluster-up). */
  detached?: boolean;
  /** env is added to this process's environment. */
  env?: Record<string, string>;
}

/** startProcess starts a binary with stdout and stderr appended to its log file. */
export function startProcess(opts: StartProcessOptions): ManagedProcess {
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.bin, opts.args, {
      stdio: ["ignore", fd, fd],
      detached: opts.detached ?? false,
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new Error(`could not start ${opts.name} (${opts.bin}); see ${opts.logFile}`);
  }
  if (opts.detached) child.unref();
  if (opts.ownerPid !== undefined) startWatchdog(opts.ownerPid, child.pid);
  return { name: opts.name, pid: child.pid, bin: opts.bin, logFile: opts.logFile, child };
}

/**
 * startWatchdog runs a tiny detached shell that kills `pid` once `ownerPid` has exited, and ends
 * by itself when `pid` exits first. Node has no parent-death signal, so this is what keeps a
 * SIGKILLed test runner from leaving an API server and etcd behind.
 */
function startWatchdog(ownerPid: number, pid: number): void {
  const script = `
    while kill -0 ${ownerPid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done
    if kill -0 ${pid} 2>/dev/null; then
      kill -TERM ${pid} 2>/dev/null; sleep 5; kill -KILL ${pid} 2>/dev/null
    fi`;
  const dog = spawn("bash", ["-c", script], { stdio: "ignore", detached: true });
  dog.unref();
}

/** isRunning tells whether `pid` is alive and still runs `bin` (pids are reused). */
export function isRunning(pid: number, bin: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.split("\0")[0] === bin;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** stopProcess sends SIGTERM, waits up to `graceMs`, then SIGKILL; resolves once it is gone. */
export async function stopProcess(p: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (!isRunning(p.pid, p.bin)) return;
  process.kill(p.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(p.pid, p.bin)) return;
    await sleep(100);
  }
  try {
    process.kill(p.pid, "SIGKILL");
  } catch {
    return;
  }
  while (isRunning(p.pid, p.bin)) await sleep(50);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * waitReady polls `ready` until it holds, failing early with the end of the process's log when
 * the process exits, and after `timeoutMs` otherwise.
 */
export async function waitReady(
  p: ManagedProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(p.pid, p.bin)) {
      throw new Error(
        `${p.name} exited during start; last lines of ${p.logFile}:\n${tail(p.logFile)}`,
      );
    }
    if (await ready().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(
    `${p.name} not ready after ${timeoutMs / 1000} s; last lines of ${p.logFile}:\n${tail(p.logFile)}`,
  );
}
