/**
 * BenchCluster is the benchmark's own local control plane in a temporary directory, with
 * manifests/crd installed and the clients the phases use. `stop` removes everything it made.
 */
import * as k8s from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalControlPlane, readState } from "../controlplane/control-plane";
import { repoRoot, resolveTestbin } from "../controlplane/testbin";
import { GROUP, PLURAL, VERSION } from "../../api/v1alpha1/names";
import { sleep } from "./util";

/** benchLabels select the benchmark's pods; the MeshIdentity selects them. */
export const benchLabels = { app: "meshid-bench" } as const;
/** benchServiceAccount is the service account of every benchmark pod (no admission checks it). */
export const benchServiceAccount = "bench";
/** trustDomain is the operator's default trust domain, which the benchmark keeps. */
export const trustDomain = "cluster.local";

/** BenchCluster is a running control plane owned by the benchmark. */
export class BenchCluster {
  readonly kc = new k8s.KubeConfig();
  readonly core: k8s.CoreV1Api;
  readonly custom: k8s.CustomObjectsApi;

  private constructor(
    readonly cp: LocalControlPlane,
    readonly dir: string,
  ) {
    this.kc.loadFromFile(cp.kubeconfigPath);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
  }

  /**
   * start builds or finds the binaries, starts the control plane in `dir` and installs the CRDs.
   * Its processes are tied to this process by watchdogs, so even a SIGKILL leaves none behind.
   */
  static async start(dir: string, log: (m: string) => void): Promise<BenchCluster> {
    const binDir = resolveTestbin();
    const cp = await LocalControlPlane.start({ binDir, dir, log });
    const cluster = new BenchCluster(cp, dir);
    try {
      const crds = join(repoRoot, "manifests", "crd");
      const kubectl = (...args: string[]) =>
        execFileSync("kubectl", ["--kubeconfig", cp.kubeconfigPath, ...args], {
          stdio: ["ignore", "ignore", "inherit"],
        });
      kubectl("apply", "--server-side", "-f", crds);
      kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds);
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cluster;
  }

  /** makeTempDir creates the directory a cluster runs in. */
  static makeTempDir(): string {
    return mkdtempSync(join(tmpdir(), "meshid-bench-"));
  }

  /** kubeconfigPath is the admin kubeconfig. */
  get kubeconfigPath(): string {
    return this.cp.kubeconfigPath;
  }

  /** pids of the control plane's processes, by name, for CPU accounting. */
  pids(): Record<string, number> {
    const state = readState(this.dir);
    return Object.fromEntries((state?.processes ?? []).map((p) => [p.name, p.pid]));
  }

  /** version is the API server's gitVersion. */
  async version(): Promise<string> {
    const body = await this.cp.apiGet("/version");
    return body ? ((JSON.parse(body) as { gitVersion?: string }).gitVersion ?? "?") : "?";
  }

  /** apiServerMetrics is the API server's own /metrics text ("" if unreadable). */
  async apiServerMetrics(): Promise<string> {
    return (await this.cp.apiGet("/metrics")) ?? "";
  }

  /** createNamespace creates a namespace. */
  async createNamespace(name: string): Promise<void> {
    await this.core.createNamespace({ metadata: { name } });
  }

  /** deleteNamespace deletes a namespace and waits until it is gone; false on timeout. */
  async deleteNamespace(name: string, timeoutMs: number): Promise<boolean> {
    await this.core.deleteNamespace(name);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        await this.core.readNamespace(name);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return true;
        throw err;
      }
      await sleep(500);
    }
    return false;
  }

  /** createIdentity creates the MeshIdentity selecting the benchmark's pods in `namespace`. */
  async createIdentity(namespace: string): Promise<void> {
    await this.custom.createNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "MeshIdentity",
      metadata: { name: "bench" },
      spec: { selector: { matchLabels: { ...benchLabels } } },
    });
  }

  /** stop stops the control plane and removes its directory. */
  async stop(): Promise<void> {
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
