/**
 * cluster: start, stop and inspect a detached local control plane (make cluster-up / cluster-down).
 *
 *   tsx hack/controlplane/cli.ts up      start it with a node (or report the one running) and
 *                                        print the kubeconfig
 *   tsx hack/controlplane/cli.ts down    stop every process it started and remove what the node
 *                                        left on the machine (mounts, cgroups, bridge, rules)
 *   tsx hack/controlplane/cli.ts status  say whether it runs
 *
 * MESHID_CLUSTER_DIR sets the working directory (default .tmp/cluster in the repository);
 * MESHID_NODE=0 starts the control plane alone.
 */
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { startCluster } from "./cluster";
import { readState, stopFromState } from "./control-plane";
import { readNodeLock, stopNode, type NodeState } from "./node-cleanup";
import { isRunning } from "./process";
import { repoRoot } from "./testbin";

const dir = resolve(process.env.MESHID_CLUSTER_DIR ?? join(repoRoot, ".tmp", "cluster"));
const say = (m: string) => process.stderr.write(`==> ${m}\n`);

/** nodeState returns the state of this cluster's node, if it has one. */
function nodeState(): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "node", "state.json"), "utf8")) as NodeState;
  } catch {
    const lock = readNodeLock();
    return lock?.dir === join(dir, "node") ? lock : undefined;
  }
}

async function up(): Promise<void> {
  const state = readState(dir);
  const node = nodeState();
  const all = [...(state?.processes ?? []), ...(node?.processes ?? [])];
  if (state && all.every((p) => isRunning(p.pid, p.bin))) {
    say(`cluster already running at ${state.server}${node ? ` with node ${node.name}` : ""}`);
    process.stdout.write(`${state.kubeconfig}\n`);
    return;
  }
  await down();
  rmSync(dir, { recursive: true, force: true });
  const withNode = process.env.MESHID_NODE !== "0";
  say(
    `starting etcd, kube-apiserver, kube-controller-manager${withNode ? ", kube-scheduler, containerd, kube-proxy and kubelet" : ""} (logs in ${join(dir, "logs")})`,
  );
  const t0 = Date.now();
  const { cp } = await startCluster({ dir, node: withNode, detached: true, log: say });
  say(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  say(`use it with: export KUBECONFIG=${cp.kubeconfigPath}`);
  say("stop it with: make cluster-down");
  process.stdout.write(`${cp.kubeconfigPath}\n`);
}

async function down(): Promise<void> {
  const node = nodeState();
  if (node) {
    for (const line of await stopNode(node)) say(line);
    say(`node ${node.name} stopped`);
  }
  const state = readState(dir);
  if (!state) {
    say(`no control plane state in ${dir}: nothing to stop`);
    return;
  }
  const stopped = await stopFromState(state);
  say(stopped ? "control plane stopped" : "control plane was not running");
}

function status(): void {
  const state = readState(dir);
  if (!state) {
    say("not running");
    process.exitCode = 1;
    return;
  }
  for (const p of [...state.processes, ...(nodeState()?.processes ?? [])]) {
    say(`${p.name.padEnd(24)} pid ${p.pid} ${isRunning(p.pid, p.bin) ? "running" : "stopped"}`);
  }
  process.stdout.write(`${state.kubeconfig}\n`);
}

const cmd = process.argv[2];
const commands: Record<string, () => Promise<void> | void> = { up, down, status };
const run = cmd ? commands[cmd] : undefined;
if (!run) {
  process.stderr.write("usage: cluster (up|down|status)\n");
  process.exit(2);
}
Promise.resolve(run()).catch((err: unknown) => {
  process.stderr.write(`cluster ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
