/**
 * resolveTestbin returns the directory with the control-plane binaries, building them on a cache
 * miss through hack/testbin/build.sh (which prints its progress on stderr).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** repoRoot is the project's root directory. */
export const repoRoot = join(__dirname, "..", "..");

/** resolveTestbin returns MESHID_TESTBIN if set, else builds or finds the cached binaries. */
export function resolveTestbin(): string {
  const fromEnv = process.env.MESHID_TESTBIN;
  if (fromEnv) return fromEnv;
  const out = execFileSync("bash", [join(repoRoot, "hack", "testbin", "build.sh")], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  const dir = out.trim().split("\n").pop();
  if (!dir) throw new Error("hack/testbin/build.sh printed no directory");
  return dir;
}
