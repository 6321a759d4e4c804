/**
 * The plugin's API access, with the user's kubeconfig as kubectl would use it: reads of pods,
 * meshid's Secrets and MeshIdentities, the CA Secrets and trust bundle, and the one write (renew's
 * annotation). API errors become CliError with the server's message.
 */
import * as k8s from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { GROUP, PLURAL, VERSION } from "../../api/v1alpha1/names";
import { MeshIdError } from "../errors";
import { labels, managedValue, signerName, trustBundleConfigMap } from "../policy/naming";
import type { PodCertificateRequest } from "../kube/pod-certificate-request";
import { UsageError, type Invocation } from "./args";

/** CliError is a failure the plugin reports and exits 1 on: an API error, a missing object. */
export class CliError extends MeshIdError {
  constructor(message: string) {
    super("CliError", message);
    this.name = "CliError";
  }
}

/** CaSecretRead is a CA Secret, or why it could not be read; both absent: it does not exist. */
export interface CaSecretRead {
  secret?: k8s.V1Secret;
  forbidden?: string;
}

/** Scope is where to look: one namespace, or all of them (namespace undefined). */
export interface Scope {
  namespace?: string;
}

/** Cluster is everything the plugin reads and writes. */
export interface Cluster {
  pods(scope: Scope, selector?: string): Promise<k8s.V1Pod[]>;
  pod(namespace: string, name: string): Promise<k8s.V1Pod | undefined>;
  managedSecrets(scope: Scope): Promise<k8s.V1Secret[]>;
  identities(scope: Scope): Promise<MeshIdentity[]>;
  /**
   * podCertificateRequests lists the requests to meshid's signer still stored (kube-controller-
   * manager deletes them after 15 minutes); none where the API is not served or not readable.
   */
  podCertificateRequests(scope: Scope): Promise<PodCertificateRequest[]>;
  /** caSecret reads a CA Secret; a refusal (403) is reported, not thrown: other output goes on. */
  caSecret(namespace: string, name: string): Promise<CaSecretRead>;
  trustBundle(namespace: string): Promise<string | undefined>;
  annotate(
    kind: "pod" | "meshidentity",
    ns: string,
    name: string,
    a: Record<string, string>,
  ): Promise<void>;
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: { message?: string } }).body;
  return body?.message ?? (err instanceof Error ? err.message : String(err));
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CliError(`${what}: ${apiMessage(err)}`);
  }
}

async function orMissing<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw new CliError(`${what}: ${apiMessage(err)}`);
  }
}

/** loadKubeConfig reads the kubeconfig as kubectl does, honouring --kubeconfig and --context. */
export function loadKubeConfig(inv: Pick<Invocation, "kubeconfig" | "context">): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (inv.kubeconfig) kc.loadFromFile(inv.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new CliError(`cannot read the kubeconfig: ${apiMessage(err)}`);
  }
  if (inv.context) {
    if (!kc.getContexts().some((c) => c.name === inv.context))
      throw new UsageError(`context "${inv.context}" is not in the kubeconfig`);
    kc.setCurrentContext(inv.context);
  }
  if (!kc.getCurrentCluster()) throw new CliError("the kubeconfig names no current cluster");
  return kc;
}

/** contextNamespace is the current context's namespace, as kubectl defaults it. */
export function contextNamespace(kc: k8s.KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || "default";
}

const mergePatch = { headers: { "Content-Type": "application/merge-patch+json" } };

/** connect returns a Cluster over the API server of `kc`. */
export function connect(kc: k8s.KubeConfig): Cluster {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const managed = `${labels.managed}=${managedValue}`;
  const u = undefined;
  return {
    pods: async ({ namespace }, selector) => {
      try {
        const { body } = namespace
          ? await core.listNamespacedPod(namespace, u, u, u, u, selector)
          : await core.listPodForAllNamespaces(u, u, u, selector);
        return body.items;
      } catch (err) {
        if (selector && statusOf(err) === 400)
          throw new UsageError(`invalid selector "${selector}": ${apiMessage(err)}`);
        throw new CliError(`listing pods: ${apiMessage(err)}`);
      }
    },
    pod: (ns, name) =>
      orMissing(
        `reading pod ${ns}/${name}`,
        async () => (await core.readNamespacedPod(name, ns)).body,
      ),
    managedSecrets: ({ namespace }) =>
      call("listing meshid's Secrets", async () =>
        namespace
          ? (await core.listNamespacedSecret(namespace, u, u, u, u, managed)).body.items
          : (await core.listSecretForAllNamespaces(u, u, u, managed)).body.items,
      ),
    identities: ({ namespace }) =>
      call("listing MeshIdentities", async () => {
        const { body } = namespace
          ? await custom.listNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL)
          : await custom.listClusterCustomObject(GROUP, VERSION, PLURAL);
        return (body as { items: MeshIdentity[] }).items;
      }),
    podCertificateRequests: async ({ namespace }) => {
      const [g, v, plural] = ["certificates.k8s.io", "v1beta1", "podcertificaterequests"];
      const fieldSelector = `spec.signerName=${signerName}`;
      try {
        const { body } = namespace
          ? await custom.listNamespacedCustomObject(g, v, namespace, plural, u, u, u, fieldSelector)
          : await custom.listClusterCustomObject(g, v, plural, u, u, u, fieldSelector);
        return (body as { items: PodCertificateRequest[] }).items;
      } catch (err) {
        const code = statusOf(err);
        if (code === 404 || code === 403) return [];
        throw new CliError(`listing PodCertificateRequests: ${apiMessage(err)}`);
      }
    },
    caSecret: async (ns, name) => {
      try {
        return { secret: (await core.readNamespacedSecret(name, ns)).body };
      } catch (err) {
        if (statusOf(err) === 404) return {};
        if (statusOf(err) === 403) return { forbidden: apiMessage(err) };
        throw new CliError(`reading Secret ${ns}/${name}: ${apiMessage(err)}`);
      }
    },
    trustBundle: (ns) =>
      orMissing(`reading ConfigMap ${ns}/${trustBundleConfigMap}`, async () => {
        const { body } = await core.readNamespacedConfigMap(trustBundleConfigMap, ns);
        return body.data?.["ca.crt"];
      }),
    annotate: async (kind, ns, name, annotations) => {
      const patch = { metadata: { annotations } };
      const what = `annotating ${kind === "pod" ? "pod" : "MeshIdentity"} ${ns}/${name}`;
      try {
        if (kind === "pod")
          await core.patchNamespacedPod(name, ns, patch, u, u, u, u, u, mergePatch);
        else
          await custom.patchNamespacedCustomObject(
            GROUP,
            VERSION,
            ns,
            PLURAL,
            name,
            patch,
            u,
            u,
            u,
            mergePatch,
          );
      } catch (err) {
        if (statusOf(err) === 404)
          throw new CliError(`${kind === "pod" ? "pod" : "MeshIdentity"} ${ns}/${name} not found`);
        throw new CliError(`${what}: ${apiMessage(err)}`);
      }
    },
  };
}
