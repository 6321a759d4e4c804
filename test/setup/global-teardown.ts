/** Stops the control plane that global-setup started, also after failed tests. */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** stopLeftoverOperators kills operator processes that tests started and did not stop. */
function stopLeftoverOperators(dir: string): void {
  let pids: number[];
  try {
    pids = readFileSync(join(dir, "operator-pids"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes("operator/main.ts")) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export default async function globalTeardown(): Promise<void> {
  const cp = globalThis.__meshidControlPlane;
  if (!cp) return;
  stopLeftoverOperators(cp.dir);
  await cp.stop();
  globalThis.__meshidControlPlane = undefined;
  if (!process.env.MESHID_KEEP_TEST_CLUSTER) rmSync(cp.dir, { recursive: true, force: true });
}
