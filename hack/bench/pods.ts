/**
 * Creating the benchmark's pods: one at a time with retries, at a steady rate (open loop: a slow
 * response does not delay the next creation), or as fast as the API server takes them. The pods
 * stay Pending: there is no scheduler or kubelet.
 */
import type * as k8s from "@kubernetes/client-node";
import { benchLabels, benchServiceAccount } from "./cluster";
import { errorText, sleep } from "./util";

/** CreatedPod records when a pod's creation was sent and answered (performance.now() ms). */
export interface CreatedPod {
  name: string;
  uid: string;
  sentAt: number;
  doneAt: number;
}

/** podName is the name of the i-th pod of a phase. */
export function podName(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(5, "0")}`;
}

function benchPod(name: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { ...benchLabels } },
    spec: {
      serviceAccountName: benchServiceAccount,
      containers: [{ name: "app", image: "meshid-bench-app" }],
    },
  };
}

function retryable(err: unknown): boolean {
  const code = (err as { statusCode?: number }).statusCode;
  return code === undefined || code === 429 || code >= 500;
}

/**
 * createPod creates one pod, retrying throttling, server and network errors. `sentAt` is the
 * first attempt's start, so a retried pod counts its retries in its latency.
 */
export async function createPod(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
): Promise<CreatedPod> {
  const sentAt = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const { body } = await core.createNamespacedPod(namespace, benchPod(name));
      return { name, uid: body.metadata?.uid ?? "", sentAt, doneAt: performance.now() };
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 409 && attempt > 0) {
        // An earlier attempt got through before its response was lost.
        const { body } = await core.readNamespacedPod(name, namespace);
        return { name, uid: body.metadata?.uid ?? "", sentAt, doneAt: performance.now() };
      }
      if (!retryable(err) || attempt >= 5) {
        throw new Error(`create pod ${namespace}/${name}: ${errorText(err)}`, { cause: err });
      }
      await sleep(200 * 2 ** attempt);
    }
  }
}

/** PacedResult is what a steady-rate creation achieved. */
export interface PacedResult {
  pods: CreatedPod[];
  /** achievedRate is pods per second between the first and the last send. */
  achievedRate: number;
  /** maxSlipMs is the longest a creation was sent after its scheduled time. */
  maxSlipMs: number;
}

/** createPaced creates `n` pods at `rate` per second, at most `maxInFlight` at a time. */
export async function createPaced(
  core: k8s.CoreV1Api,
  namespace: string,
  prefix: string,
  n: number,
  rate: number,
  onCreated: (p: CreatedPod) => void,
  maxInFlight = 64,
): Promise<PacedResult> {
  const pods: CreatedPod[] = [];
  const pending: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  let inFlight = 0;
  let maxSlipMs = 0;
  const t0 = performance.now();
  let lastSent = t0;
  for (let i = 0; i < n && !failure; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= maxInFlight) await sleep(5);
    lastSent = performance.now();
    maxSlipMs = Math.max(maxSlipMs, lastSent - due);
    inFlight++;
    pending.push(
      createPod(core, namespace, podName(prefix, i)).then(
        (p) => {
          inFlight--;
          pods.push(p);
          onCreated(p);
        },
        (err: unknown) => {
          inFlight--;
          failure ??= { err };
        },
      ),
    );
  }
  await Promise.all(pending);
  if (failure) throw failure.err;
  const span = (lastSent - t0) / 1000;
  return { pods, achievedRate: span > 0 ? (n - 1) / span : n, maxSlipMs };
}

/** createBulk creates `n` pods as fast as `concurrency` parallel requests allow. */
export async function createBulk(
  core: k8s.CoreV1Api,
  namespace: string,
  prefix: string,
  n: number,
  concurrency: number,
  onCreated: (p: CreatedPod) => void,
): Promise<CreatedPod[]> {
  const pods: CreatedPod[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const p = await createPod(core, namespace, podName(prefix, i));
      pods.push(p);
      onCreated(p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return pods;
}
