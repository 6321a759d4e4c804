/**
 * What the local node needs from the machine: root, the runtime's binaries, and the machine's
 * own address (the kubelet refuses a loopback node IP).
 */
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { CNI_BIN_DIR } from "./node-config";

/** NODE_TOOLS are the machine's binaries the node runs (hack/node/install-deps.sh). */
export const NODE_TOOLS = ["containerd", "ctr", "runc", "iptables", "conntrack"];

/** which returns the absolute path of a command on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** nodePrerequisiteProblems lists what keeps a node from starting here; empty when none. */
export function nodePrerequisiteProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push("the node needs root (kubelet, containerd, CNI)");
  for (const t of NODE_TOOLS) if (!which(t)) problems.push(`${t} is not installed`);
  for (const plugin of ["bridge", "host-local", "loopback"]) {
    if (!existsSync(join(CNI_BIN_DIR, plugin))) {
      problems.push(`CNI plugin ${plugin} is missing in ${CNI_BIN_DIR}`);
    }
  }
  if (problems.length > 0) problems.push("run hack/node/install-deps.sh as root");
  return problems;
}

/** installNodeDeps runs hack/node/install-deps.sh, which installs missing packages with apt. */
export function installNodeDeps(repoRoot: string): void {
  execFileSync("bash", [join(repoRoot, "hack", "node", "install-deps.sh")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/**
 * defaultRouteAddress returns the IPv4 address of the interface holding the default route: the
 * node's InternalIP, which pods, the API server and kubectl logs/exec use to reach the kubelet.
 */
export function defaultRouteAddress(): string {
  const routes = readFileSync("/proc/net/route", "utf8").trim().split("\n").slice(1);
  const dflt = routes.map((l) => l.trim().split(/\s+/)).find((f) => f[1] === "00000000");
  const iface = dflt?.[0];
  const addr = iface
    ? networkInterfaces()[iface]?.find((a) => a.family === "IPv4" && !a.internal)
    : undefined;
  if (!addr) {
    throw new Error("no IPv4 default route: the node needs the machine's own address");
  }
  return addr.address;
}
