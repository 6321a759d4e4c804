/**
 * Stopping the local node and removing everything it left on the machine: its processes (by the
 * pids it recorded), the pods' processes, the mounts under its directory and the pods' network
 * namespaces, the kubepods cgroups, the CNI bridge, kube-proxy's iptables rules, and the
 * machine-wide directories that did not exist before it started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isRunning, stopProcess } from "./process";
import { BRIDGE } from "./node-config";

/** NODE_LOCK records the one node a machine may run (kubelet and CNI use fixed host paths). */
export const NODE_LOCK = "/run/meshid-node.json";

/** NodeState is what stopping the node needs, kept in NODE_LOCK and the node's directory. */
export interface NodeState {
  dir: string;
  name: string;
  containerdSocket: string;
  nodeBinDir: string;
  processes: { name: string; pid: number; bin: string; logFile: string }[];
  /** Machine paths the node created, removed when it stops. */
  created: string[];
}

/** readNodeLock returns the state of the node this machine runs, if any. */
export function readNodeLock(): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(NODE_LOCK, "utf8")) as NodeState;
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return "";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** podNetns lists the network namespaces containerd made for the node's pod sandboxes. */
function podNetns(state: NodeState): string[] {
  const ctr = (...a: string[]) =>
    run("ctr", ["--address", state.containerdSocket, "-n", "k8s.io", ...a]);
  const paths = new Set<string>();
  for (const id of ctr("containers", "ls", "-q").split("\n").filter(Boolean)) {
    try {
      const info = JSON.parse(ctr("containers", "info", id)) as {
        Spec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
      };
      for (const ns of info.Spec?.linux?.namespaces ?? []) {
        // /var/run is /run: mountinfo names the mount by its real path.
        if (ns.type === "network" && ns.path?.startsWith("/var/run/netns/")) {
          paths.add(ns.path.replace(/^\/var\/run\//, "/run/"));
        }
      }
    } catch {
      // a container without a readable spec has no namespace of ours to remove
    }
  }
  return [...paths];
}

/** cgroupDirs returns every kubepods cgroup, deepest first, across the v1 hierarchies. */
function kubepodsCgroups(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d);
  };
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", h, "kubepods");
    if (existsSync(d) && statSync(d).isDirectory()) walk(d);
  }
  return out;
}

/** readProcs lists a cgroup's processes; none when the cgroup went away meanwhile. */
function readProcs(cgroup: string): string[] {
  try {
    return readFileSync(join(cgroup, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** killPods SIGKILLs every process in the kubepods cgroups: the node's containers and sandboxes. */
async function killPods(): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let any = false;
    for (const d of kubepodsCgroups()) {
      for (const pid of readProcs(d)) {
        any = true;
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    if (!any) return;
    await sleep(100);
  }
}

/** shimPids returns the containerd shims serving this node's containerd (by its socket). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv[0]?.includes("containerd-shim") && argv.includes(socket)) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** mountsUnder lists mount points at or below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .map((m) => m.replace(/\\040/g, " "))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * removeKubeletChains removes the iptables chains the kubelet makes (kube-proxy --cleanup
 * removes its own): KUBE-FIREWALL, which drops non-local traffic to 127.0.0.0/8, with its jumps
 * from INPUT and OUTPUT, and the KUBE-KUBELET-CANARY and KUBE-IPTABLES-HINT markers.
 */
function removeKubeletChains(): void {
  const chains: [string, string, string[]][] = [
    ["filter", "KUBE-FIREWALL", ["INPUT", "OUTPUT"]],
    ["filter", "KUBE-KUBELET-CANARY", []],
    ["nat", "KUBE-KUBELET-CANARY", []],
    ["mangle", "KUBE-KUBELET-CANARY", []],
    ["mangle", "KUBE-IPTABLES-HINT", []],
  ];
  for (const cmd of ["iptables", "ip6tables"]) {
    for (const [table, chain, from] of chains) {
      for (const parent of from) {
        for (let i = 0; i < 10; i++) {
          try {
            execFileSync(cmd, ["-w", "-t", table, "-D", parent, "-j", chain], { stdio: "ignore" });
          } catch {
            break;
          }
        }
      }
      run(cmd, ["-w", "-t", table, "-F", chain]);
      run(cmd, ["-w", "-t", table, "-X", chain]);
    }
  }
}

/**
 * stopNode stops the node recorded in `state` and removes what it left on the machine. Safe to
 * call on a node that is partly or wholly gone already. Returns what it removed, for the log.
 */
export async function stopNode(state: NodeState): Promise<string[]> {
  const done: string[] = [];
  const netns = podNetns(state);
  const byName = (n: string) => state.processes.find((p) => p.name === n);
  for (const name of ["kubelet", "kube-proxy", "kube-scheduler"]) {
    const p = byName(name);
    if (p && isRunning(p.pid, p.bin)) {
      await stopProcess(p);
      done.push(`stopped ${name} (pid ${p.pid})`);
    }
  }
  await killPods();
  const containerd = byName("containerd");
  if (containerd && isRunning(containerd.pid, containerd.bin)) {
    await stopProcess(containerd);
    done.push(`stopped containerd (pid ${containerd.pid})`);
  }
  for (const pid of shimPids(state.containerdSocket)) {
    try {
      process.kill(pid, "SIGKILL");
      done.push(`stopped containerd-shim (pid ${pid})`);
    } catch {
      // gone
    }
  }
  const proxy = join(state.nodeBinDir, "kube-proxy");
  if (existsSync(proxy)) run(proxy, ["--cleanup"]);
  removeKubeletChains();
  for (const m of [...netns, ...mountsUnder(state.dir)]) {
    if (mountsUnder(m).length > 0) run("umount", ["-l", m]);
  }
  for (const ns of netns) {
    try {
      rmSync(ns, { force: true });
    } catch (err) {
      done.push(`could not remove ${ns}: ${(err as Error).message}`);
    }
  }
  if (netns.length > 0) done.push(`removed ${netns.length} pod network namespaces`);
  const cgroups = kubepodsCgroups();
  for (const d of cgroups) {
    try {
      rmdirSync(d);
    } catch {
      // still busy: reported below
    }
  }
  const leftCgroups = kubepodsCgroups();
  done.push(`removed ${cgroups.length - leftCgroups.length} kubepods cgroups`);
  if (leftCgroups.length > 0) done.push(`could not remove cgroups: ${leftCgroups.join(", ")}`);
  if (run("ip", ["link", "show", BRIDGE]) !== "") {
    run("ip", ["link", "delete", BRIDGE]);
    done.push(`deleted bridge ${BRIDGE}`);
  }
  for (const p of state.created) {
    if (existsSync(p)) {
      rmSync(p, { recursive: true, force: true });
      done.push(`removed ${p}`);
    }
  }
  const leftMounts = mountsUnder(state.dir);
  if (leftMounts.length > 0) done.push(`mounts left under ${state.dir}: ${leftMounts.join(", ")}`);
  if (readNodeLock()?.dir === state.dir) rmSync(NODE_LOCK, { force: true });
  return done;
}
