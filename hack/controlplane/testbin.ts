/**
 * resolveTestbin returns the directory with the control-plane binaries, building them on a cache
 * miss through hack/testbin/build.sh (which prints its progress on stderr); resolveNodeTestbin
 * does the same for the node's, and buildImages packs the node's images (hack/images/build.sh).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** repoRoot is the project's root directory. */
export const repoRoot = join(__dirname, "..", "..");

function lastLine(script: string, args: string[]): string[] {
  const out = execFileSync("bash", [join(repoRoot, "hack", ...script.split("/")), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  return out.trim().split("\n").filter(Boolean);
}

/** resolveTestbin returns MESHID_TESTBIN if set, else builds or finds the cached binaries. */
export function resolveTestbin(): string {
  const fromEnv = process.env.MESHID_TESTBIN;
  if (fromEnv) return fromEnv;
  const dir = lastLine("testbin/build.sh", []).pop();
  if (!dir) throw new Error("hack/testbin/build.sh printed no directory");
  return dir;
}

/** resolveNodeTestbin returns the directory with kubelet, kube-scheduler and kube-proxy. */
export function resolveNodeTestbin(): string {
  const dir = lastLine("testbin/build.sh", ["node"]).pop();
  if (!dir) throw new Error("hack/testbin/build.sh node printed no directory");
  return dir;
}

/** NodeImage names an image hack/images/build.sh packs. */
export type NodeImage = "pause" | "workload" | "operator";

/** buildImages packs the given images (cached by content) and returns their archives. */
export function buildImages(images: NodeImage[]): string[] {
  return lastLine("images/build.sh", images);
}
