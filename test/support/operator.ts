/**
 * Runs the real operator process (operator/main.ts through tsx) against the test control plane,
 * with its JSON log in a file, and helpers to wait for readiness and to kill it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as http from "node:http";
import * as k8s from "@kubernetes/client-node";
import { eventually, testKubeconfigPath, testTmpDir, uniqueName } from "./kube";
import { freePort } from "../../hack/controlplane/control-plane";
export { freePort };

const repoRoot = join(__dirname, "..", "..");

/**
 * recordPid notes an operator's pid in the control plane's directory, so global teardown can stop
 * any operator a failed test left behind.
 */
function recordPid(pid: number): void {
  const dir = process.env.MESHID_TEST_CP_DIR;
  if (dir) appendFileSync(join(dir, "operator-pids"), `${pid}\n`);
}

/** OperatorProcess is one running operator. */
export interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  healthPort: number;
  webhookPort: number;
  logFile: string;
  namespace: string;
  identity: string;
  exited: Promise<number | null>;
  /** logs returns the parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** stop sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** readyz returns the HTTP status of /readyz, or 0 when unreachable. */
  readyz(): Promise<number>;
}

/** StartOperatorOptions configures startOperator. */
export interface StartOperatorOptions {
  /** Operator namespace (CA Secrets, Lease); created when missing. */
  namespace?: string;
  identity?: string;
  args?: string[];
  env?: Record<string, string>;
  /** kubeconfig of another control plane than the shared test one. */
  kubeconfig?: string;
}

/** ensureNamespace creates a namespace unless it exists. */
export async function ensureNamespace(
  name: string,
  kubeconfig = testKubeconfigPath(),
): Promise<void> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.createNamespace({ metadata: { name } });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
  });
}

/** startOperator starts an operator process; it does not wait for readiness. */
export async function startOperator(opts: StartOperatorOptions = {}): Promise<OperatorProcess> {
  const namespace = opts.namespace ?? uniqueName("meshid-system");
  const kubeconfig = opts.kubeconfig ?? testKubeconfigPath();
  await ensureNamespace(namespace, kubeconfig);
  const healthPort = await freePort();
  const webhookPort = await freePort();
  const identity = opts.identity ?? uniqueName("op");
  const logFile = join(mkdtempSync(join(testTmpDir(), "meshid-op-")), "operator.log");
  const fd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      // tsx as a loader, not its CLI: the CLI runs the script in a second process that a
      // SIGKILL of the first would leave running.
      "--import",
      "tsx",
      join(repoRoot, "operator", "main.ts"),
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      `--health-port=${healthPort}`,
      "--bind-address=127.0.0.1",
      "--metrics-port=0",
      `--webhook-port=${webhookPort}`,
      "--webhook-cert-ips=127.0.0.1",
      `--identity=${identity}`,
      ...(opts.env?.LOG_LEVEL ? [] : ["--log-level=debug"]),
      ...(opts.args ?? []),
    ],
    { stdio: ["ignore", fd, fd], env: { ...process.env, ...opts.env }, cwd: repoRoot },
  );
  closeSync(fd);
  recordPid(child.pid!);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    child,
    pid: child.pid!,
    healthPort,
    webhookPort,
    logFile,
    namespace,
    identity,
    exited,
    logs: () =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    readyz: () => httpStatus(healthPort, "/readyz"),
  };
}

/** waitReady waits until the operator's /readyz answers 200. */
export async function waitReady(op: OperatorProcess, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      if (op.child.exitCode !== null)
        throw new Error(`operator exited with ${op.child.exitCode}; log: ${op.logFile}`);
      const code = await op.readyz();
      if (code !== 200) throw new Error(`operator /readyz is ${code}; log: ${op.logFile}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}
