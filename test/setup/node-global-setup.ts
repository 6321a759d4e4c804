/**
 * Starts the local cluster with a node for the node project: control plane, containerd, kubelet,
 * kube-proxy and kube-scheduler, with the pause, workload and operator images imported. Its
 * kubeconfig reaches the test workers as MESHID_NODE_KUBECONFIG (test/setup/node-env.ts).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { startCluster, type Cluster } from "../../hack/controlplane/cluster";
import { testTmpDir } from "../support/kube";

declare global {
  var __meshidNodeCluster: Cluster | undefined;
}

export default async function nodeGlobalSetup(): Promise<void> {
  const dir = mkdtempSync(join(testTmpDir(), "meshid-node-"));
  const log = (m: string) => process.stderr.write(`[node cluster] ${m}\n`);
  log(`starting in ${dir}`);
  const cluster = await startCluster({ dir, node: true, log });
  globalThis.__meshidNodeCluster = cluster;
  process.env.MESHID_NODE_KUBECONFIG = cluster.cp.kubeconfigPath;
}
