/**
 * Helpers for the tests with running pods: meshid installed from manifests/default, a workload
 * that uses its identity (hack/images/cmd/workload), and its pods' logs.
 */
import { join } from "node:path";
import { eventually, kubectl } from "../support/kube";

const repoRoot = join(__dirname, "..", "..");

/** OPERATOR_NAMESPACE is where manifests/default installs the operator. */
export const OPERATOR_NAMESPACE = "meshid-system";

/** rolloutStatus waits until a Deployment's rollout has finished. */
export async function rolloutStatus(namespace: string, deployment: string): Promise<void> {
  await kubectl([
    "-n",
    namespace,
    "rollout",
    "status",
    `deployment/${deployment}`,
    "--timeout=60s",
  ]);
}

/**
 * installMeshid installs meshid with `kubectl apply -k manifests/default` (idempotent) and waits
 * until the Deployment is available and the operator has written the webhook's caBundle.
 */
export async function installMeshid(): Promise<void> {
  await kubectl(["apply", "-k", join(repoRoot, "manifests", "default")]);
  await rolloutStatus(OPERATOR_NAMESPACE, "meshid-operator");
  await eventually(
    async () => {
      const ca = await kubectl([
        "get",
        "mutatingwebhookconfiguration",
        "meshid",
        "-o",
        "jsonpath={.webhooks[0].clientConfig.caBundle}",
      ]);
      if (!ca) throw new Error("the webhook has no caBundle yet");
    },
    { timeoutMs: 30_000 },
  );
}

/** WorkloadOptions describe a Deployment of the workload image. */
export interface WorkloadOptions {
  namespace: string;
  name: string;
  serviceAccount: string;
  replicas: number;
  fsGroup?: number;
  /** Extra workload flags. */
  args?: string[];
}

/**
 * workloadManifest renders a Service and a Deployment whose pods serve mTLS on 8443 and dial the
 * Service (so any replica) every second, found through the Service's environment variables.
 */
export function workloadManifest(o: WorkloadOptions): string {
  const env = o.name.toUpperCase().replace(/-/g, "_");
  return JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: o.name, namespace: o.namespace },
        spec: {
          selector: { app: o.name },
          ports: [{ name: "mtls", port: 8443, targetPort: 8443 }],
        },
      },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: o.name, namespace: o.namespace },
        spec: {
          replicas: o.replicas,
          selector: { matchLabels: { app: o.name } },
          template: {
            metadata: { labels: { app: o.name } },
            spec: {
              serviceAccountName: o.serviceAccount,
              terminationGracePeriodSeconds: 1,
              ...(o.fsGroup !== undefined ? { securityContext: { fsGroup: o.fsGroup } } : {}),
              containers: [
                {
                  name: "app",
                  image: "meshid-workload:latest",
                  imagePullPolicy: "Never",
                  args: [
                    `-peer=$(${env}_SERVICE_HOST):$(${env}_SERVICE_PORT)`,
                    "-interval=1s",
                    ...(o.args ?? []),
                  ],
                },
              ],
            },
          },
        },
      },
    ],
  });
}

/** podNames lists the names of a namespace's pods with label app=<app>. */
export async function podNames(namespace: string, app: string): Promise<string[]> {
  const out = await kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `app=${app}`,
    "-o",
    "jsonpath={.items[*].metadata.name}",
  ]);
  return out.split(" ").filter(Boolean);
}

/** podLog returns a pod's log lines (kubectl logs, through the kubelet). */
export async function podLog(namespace: string, pod: string): Promise<string[]> {
  return (await kubectl(["-n", namespace, "logs", pod])).split("\n").filter(Boolean);
}

/** Handshake is one handshake line of the workload's log. */
export interface Handshake {
  side: string;
  peer: string;
  peerSerial: string;
  ownSerial: string;
  result: string;
}

/** handshakes parses the workload's handshake lines. */
export function handshakes(lines: string[]): Handshake[] {
  const re = /handshake side=(\S+) peer=(\S*) peer_serial=(\S*) own_serial=(\S+) result=(ok|fail)/;
  return lines.flatMap((l) => {
    const m = re.exec(l);
    return m
      ? [{ side: m[1]!, peer: m[2]!, peerSerial: m[3]!, ownSerial: m[4]!, result: m[5]! }]
      : [];
  });
}

/** loadedSerials returns the serials of the identities the workload loaded, in order. */
export function loadedSerials(lines: string[]): string[] {
  return lines.flatMap((l) => /loaded identity id=\S+ serial=(\S+)/.exec(l)?.[1] ?? []);
}
