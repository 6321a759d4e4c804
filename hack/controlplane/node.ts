/**
 * LocalNode joins a real node to a LocalControlPlane started with `node` settings: containerd
 * (its own root, state and socket under the cluster's directory) running pods with runc, a CNI
 * bridge, kube-proxy for Services, kube-scheduler, and a kubelet with a node identity. Images
 * come from hack/images/build.sh archives imported with ctr; nothing is pulled.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type LocalControlPlane } from "./control-plane";
import { nodePrerequisiteProblems, which } from "./host";
import {
  renderCniConfig,
  renderContainerdConfig,
  renderKubeletConfig,
  renderProxyConfig,
  type NodePaths,
} from "./node-config";
import { NODE_LOCK, readNodeLock, stopNode, type NodeState } from "./node-cleanup";
import { isRunning, startProcess, waitReady, type ManagedProcess } from "./process";

/** NodeOptions configures the node. */
export interface NodeOptions {
  /** The control plane, started with `node: { name, ip }`. */
  cp: LocalControlPlane;
  name: string;
  /** Directory with kubelet, kube-scheduler and kube-proxy (hack/testbin/build.sh node). */
  nodeBinDir: string;
  /** Image archives to import (hack/images/build.sh). */
  images: string[];
  detached?: boolean;
  log?: (message: string) => void;
  readyTimeoutMs?: number;
}

/** Machine-wide paths the kubelet and CNI use whatever their configuration says. */
const MACHINE_PATHS = [
  "/var/lib/kubelet",
  "/var/lib/cni",
  "/var/log/containers",
  "/run/containerd",
];

/** LocalNode is a running node of a local control plane. */
export class LocalNode {
  private readonly procs: ManagedProcess[] = [];
  private state?: NodeState;

  private constructor(private readonly opts: NodeOptions) {}

  /** start brings the node up and resolves once it is Ready; on failure it cleans up. */
  static async start(opts: NodeOptions): Promise<LocalNode> {
    const problems = nodePrerequisiteProblems();
    if (problems.length > 0) throw new Error(`cannot start a node: ${problems.join("; ")}`);
    const held = readNodeLock();
    if (held) {
      if (held.processes.some((p) => isRunning(p.pid, p.bin))) {
        throw new Error(
          `a node from ${held.dir} already runs on this machine (${NODE_LOCK}); stop it first (make cluster-down)`,
        );
      }
      opts.log?.(`removing what a stopped node left behind (${held.dir})`);
      await stopNode(held);
    }
    const node = new LocalNode(opts);
    try {
      await node.bootstrap();
    } catch (err) {
      await node.stop();
      throw err;
    }
    return node;
  }

  private get dir(): string {
    return join(this.opts.cp.dir, "node");
  }

  private log(m: string): void {
    this.opts.log?.(m);
  }

  /** paths are the node's own files and directories. */
  get paths(): NodePaths {
    const d = this.dir;
    return {
      containerdRoot: join(d, "containerd", "root"),
      containerdState: join(d, "containerd", "state"),
      containerdSocket: join(d, "containerd", "containerd.sock"),
      runcRoot: join(d, "runc"),
      cniConfDir: join(d, "cni", "net.d"),
      cniDataDir: join(d, "cni", "ipam"),
      kubeletRoot: join(d, "kubelet"),
      podLogs: join(d, "pod-logs"),
    };
  }

  private spawn(name: string, bin: string, args: string[]): ManagedProcess {
    const p = startProcess({
      name,
      bin,
      args,
      logFile: join(this.opts.cp.dir, "logs", `${name}.log`),
      detached: this.opts.detached ?? false,
      ...(this.opts.detached ? {} : { ownerPid: process.pid }),
    });
    this.procs.push(p);
    this.writeState();
    return p;
  }

  private writeState(): void {
    if (!this.state) return;
    this.state.processes = this.procs.map(({ name, pid, bin, logFile }) => ({
      name,
      pid,
      bin,
      logFile,
    }));
    const json = JSON.stringify(this.state, null, 2);
    writeFileSync(NODE_LOCK, json);
    writeFileSync(join(this.dir, "state.json"), json);
  }

  private async bootstrap(): Promise<void> {
    const t0 = Date.now();
    const p = this.paths;
    const { cp, name, nodeBinDir } = this.opts;
    const created = MACHINE_PATHS.filter((m) => !existsSync(m));
    for (const d of [this.dir, p.containerdRoot, p.containerdState, p.cniConfDir, p.cniDataDir]) {
      mkdirSync(d, { recursive: true });
    }
    mkdirSync(p.kubeletRoot, { recursive: true });
    mkdirSync(p.podLogs, { recursive: true });
    this.state = {
      dir: this.dir,
      name,
      containerdSocket: p.containerdSocket,
      nodeBinDir,
      processes: [],
      created,
    };
    this.writeState();
    writeFileSync(join(this.dir, "containerd.toml"), renderContainerdConfig(p));
    writeFileSync(join(p.cniConfDir, "10-meshid.conflist"), renderCniConfig(p));
    // The bridge plugin routes between pods and the host; Services need forwarding on too.
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");

    const containerd = this.spawn("containerd", which("containerd")!, [
      `--config=${join(this.dir, "containerd.toml")}`,
    ]);
    await this.waitFor(containerd, () => Promise.resolve(this.ctr(["version"]) !== undefined));
    for (const image of this.opts.images) {
      const out = this.ctr(["images", "import", image]);
      if (out === undefined) throw new Error(`ctr could not import ${image}`);
    }
    this.log(`containerd ready, ${this.opts.images.length} images imported`);

    this.spawn("kube-scheduler", join(nodeBinDir, "kube-scheduler"), [
      `--kubeconfig=${join(cp.dir, "scheduler.kubeconfig")}`,
      `--authentication-kubeconfig=${join(cp.dir, "scheduler.kubeconfig")}`,
      `--authorization-kubeconfig=${join(cp.dir, "scheduler.kubeconfig")}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
    ]);
    writeFileSync(
      join(this.dir, "kube-proxy.json"),
      renderProxyConfig({
        kubeconfig: join(cp.dir, "proxy.kubeconfig"),
        nodeName: name,
        healthzPort: await freePort(),
        metricsPort: await freePort(),
      }),
    );
    this.spawn("kube-proxy", join(nodeBinDir, "kube-proxy"), [
      `--config=${join(this.dir, "kube-proxy.json")}`,
    ]);
    writeFileSync(
      join(this.dir, "kubelet.json"),
      renderKubeletConfig({
        paths: p,
        address: cp.nodeIp!,
        port: await freePort(),
        clientCaFile: join(cp.dir, "pki", "client-ca.crt"),
      }),
    );
    const kubelet = this.spawn("kubelet", join(nodeBinDir, "kubelet"), [
      `--config=${join(this.dir, "kubelet.json")}`,
      `--kubeconfig=${join(cp.dir, "kubelet.kubeconfig")}`,
      `--root-dir=${p.kubeletRoot}`,
      `--cert-dir=${join(p.kubeletRoot, "pki")}`,
      `--hostname-override=${name}`,
      `--node-ip=${cp.nodeIp!}`,
    ]);
    await this.waitFor(kubelet, () => this.nodeReady());
    this.log(`node ${name} Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** ctr runs ctr against this node's containerd in the CRI namespace; undefined on failure. */
  ctr(args: string[]): string | undefined {
    try {
      return execFileSync(
        "ctr",
        ["--address", this.paths.containerdSocket, "-n", "k8s.io", ...args],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 },
      );
    } catch {
      return undefined;
    }
  }

  private async nodeReady(): Promise<boolean> {
    const body = await this.opts.cp.apiGet(`/api/v1/nodes/${this.opts.name}`);
    if (!body) return false;
    const node = JSON.parse(body) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  }

  private waitFor(p: ManagedProcess, ready: () => Promise<boolean>): Promise<void> {
    return waitReady(p, ready, this.opts.readyTimeoutMs ?? 120_000);
  }

  /** stop stops the node and removes what it left on the machine. */
  async stop(): Promise<string[]> {
    if (!this.state) return [];
    const done = await stopNode(this.state);
    this.state = undefined;
    return done;
  }
}
