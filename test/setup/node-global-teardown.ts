/** Stops the cluster with a node and removes what the node left on the machine. */
import { rmSync } from "node:fs";

export default async function nodeGlobalTeardown(): Promise<void> {
  const cluster = globalThis.__meshidNodeCluster;
  if (!cluster) return;
  const done = await cluster.stop();
  for (const line of done.filter((l) => l.startsWith("could not") || l.startsWith("mounts left"))) {
    process.stderr.write(`[node cluster] ${line}\n`);
  }
  globalThis.__meshidNodeCluster = undefined;
  if (!process.env.MESHID_KEEP_TEST_CLUSTER)
    rmSync(cluster.cp.dir, { recursive: true, force: true });
}
