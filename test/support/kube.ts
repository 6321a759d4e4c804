/**
 * Helpers for integration tests against the local control plane: clients from the test
 * kubeconfig, a unique namespace per test, kubectl, and `eventually` polling with a deadline.
 */
import * as k8s from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

/** testKubeconfigPath is the kubeconfig of the control plane that global setup started. */
export function testKubeconfigPath(): string {
  const path = process.env.MESHID_TEST_KUBECONFIG;
  if (!path)
    throw new Error(
      "MESHID_TEST_KUBECONFIG is not set: run integration tests through jest's integration project",
    );
  return path;
}

/** testKubeConfig loads the test kubeconfig. */
export function testKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testKubeconfigPath());
  return kc;
}

/** uniqueName returns `prefix-` plus random hex, valid as a namespace name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** createNamespace creates a namespace with a unique name and returns it. */
export async function createNamespace(
  kc: k8s.KubeConfig,
  prefix = "t",
  labels: Record<string, string> = {},
): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ metadata: { name, labels } });
  return name;
}

/** kubectl runs kubectl against the test cluster and resolves with its stdout. */
export function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", testKubeconfigPath(), ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(" ")} failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** eventually retries `fn` until it stops throwing or the deadline passes, then rethrows. */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
    }
  }
}

/** statusCode extracts the HTTP status from a client-node error, if any. */
export function statusCode(err: unknown): number | undefined {
  if (err && typeof err === "object" && "statusCode" in err)
    return (err as { statusCode?: number }).statusCode;
  return undefined;
}

/**
 * testTmpDir is where tests put control planes and operator logs: MESHID_TEST_TMPDIR when set
 * (CI sets a fresh one per run, then checks that no process still refers to it), else the OS's.
 */
export function testTmpDir(): string {
  return process.env.MESHID_TEST_TMPDIR || tmpdir();
}

/**
 * serviceAccountKubeconfig writes into `dir` a kubeconfig holding only a token of the
 * ServiceAccount, so a process runs with exactly the ServiceAccount's RBAC.
 */
export async function serviceAccountKubeconfig(
  namespace: string,
  serviceAccount: string,
  dir: string,
): Promise<string> {
  const token = (
    await kubectl(["create", "token", serviceAccount, "-n", namespace, "--duration=1h"])
  ).trim();
  const cluster = testKubeConfig().getCurrentCluster()!;
  const file = join(dir, `${namespace}-${serviceAccount}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "test",
          cluster: {
            server: cluster.server,
            "certificate-authority-data":
              cluster.caData ?? readFileSync(cluster.caFile!).toString("base64"),
          },
        },
      ],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: "test", context: { cluster: "test", user: serviceAccount } }],
      "current-context": "test",
    }),
  );
  return file;
}
