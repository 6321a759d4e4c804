/**
 * startCluster starts a local control plane and, unless told otherwise, a node joined to it:
 * the one entry point of `make cluster-up` and of the tests that need running pods.
 */
import { LocalControlPlane } from "./control-plane";
import { defaultRouteAddress, installNodeDeps } from "./host";
import { LocalNode } from "./node";
import {
  buildImages,
  repoRoot,
  resolveNodeTestbin,
  resolveTestbin,
  type NodeImage,
} from "./testbin";

/** NODE_NAME is the local node's name. */
export const NODE_NAME = "meshid-node";

/** ClusterOptions configures startCluster. */
export interface ClusterOptions {
  dir: string;
  /** Start a node (default true). */
  node?: boolean;
  /** Images to import besides pause (default: workload and operator). */
  images?: NodeImage[];
  detached?: boolean;
  log?: (message: string) => void;
}

/** Cluster is a running control plane and its node, if any. */
export interface Cluster {
  cp: LocalControlPlane;
  node?: LocalNode;
  /** stop stops the node (removing what it left on the machine), then the control plane. */
  stop(): Promise<string[]>;
}

/** startCluster starts the control plane, then the node; on failure nothing is left running. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const withNode = opts.node ?? true;
  const binDir = resolveTestbin();
  let nodeBinDir = "";
  let images: string[] = [];
  if (withNode) {
    installNodeDeps(repoRoot);
    nodeBinDir = resolveNodeTestbin();
    images = buildImages(["pause", ...(opts.images ?? ["workload", "operator"])]);
  }
  const cp = await LocalControlPlane.start({
    binDir,
    dir: opts.dir,
    ...(opts.detached ? { detached: true } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(withNode ? { node: { name: NODE_NAME, ip: defaultRouteAddress() } } : {}),
  });
  let node: LocalNode | undefined;
  if (withNode) {
    try {
      node = await LocalNode.start({
        cp,
        name: NODE_NAME,
        nodeBinDir,
        images,
        ...(opts.detached ? { detached: true } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      });
    } catch (err) {
      await cp.stop();
      throw err;
    }
  }
  return {
    cp,
    ...(node ? { node } : {}),
    stop: async () => {
      const done = node ? await node.stop() : [];
      await cp.stop();
      return done;
    },
  };
}
