/** Stops the control plane that global-setup started, also after failed tests. */
import { rmSync } from "node:fs";

export default async function globalTeardown(): Promise<void> {
  const cp = globalThis.__meshidControlPlane;
  if (!cp) return;
  await cp.stop();
  globalThis.__meshidControlPlane = undefined;
  if (!process.env.MESHID_KEEP_TEST_CLUSTER) rmSync(cp.dir, { recursive: true, force: true });
}
