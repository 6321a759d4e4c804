/**
 * What a root rotation waits for, counted from the caches: the carriers of the trust bundle that
 * do not hold the loaded bundle yet (Propagating), and the live leaves still signed by another
 * intermediate than the current one (Draining). Pod Secrets count only when they are a live pod's
 * identity Secret by meshid's binding and their leaf verifies.
 */
import type { V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import { b64, secretText } from "../kube/objects";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { resolveSpec } from "../../api/v1alpha1/defaults";
import type { Config } from "../config";
import type { ClusterTrustBundlePort, WebhookConfigPort } from "../kube/client";
import { clusterTrustBundleName } from "../kube/cluster-trust-bundle";
import type { Source } from "../kube/manager";
import type { SigningCa } from "../pki";
import { identitySecretName } from "../policy/binding";
import { podQualifies, selectIdentity } from "../policy/selection";
import { trustBundleStale } from "../policy/issuance";
import { labels, objectKey, trustBundleConfigMap, trustBundleKey } from "../policy/naming";
import { knownExisting, type ExistingCache } from "./existing";

/** InventoryDeps are the caches and ports the counts read. */
export interface InventoryDeps {
  pods: Source<V1Pod>;
  secrets: Source<V1Secret>;
  bundles: Source<V1ConfigMap>;
  identities: Source<MeshIdentity>;
  existing: ExistingCache;
  kube: WebhookConfigPort & ClusterTrustBundlePort;
  config: Pick<Config, "webhookConfigName" | "defaultDurationMs">;
}

/**
 * boundSecrets are the identity Secrets of live pods a MeshIdentity selects: the pod's Secret by
 * name, whose Pod ownerReference names that pod by name and UID. Only such a Secret is judged by
 * the pod reconcile; a copy under another name, a Secret a pod's author labelled as managed, or
 * one of a pod no MeshIdentity selects is never counted, so none can hold a rotation back.
 */
function boundSecrets(deps: Pick<InventoryDeps, "pods" | "secrets" | "identities">): V1Secret[] {
  const out: V1Secret[] = [];
  for (const p of deps.pods.list()) {
    const { namespace = "", name: podName, uid } = p.metadata ?? {};
    if (!podQualifies(p) || !selectIdentity(p, deps.identities.list(namespace)).winner) continue;
    const name = identitySecretName(p);
    const s = name === undefined ? undefined : deps.secrets.get(objectKey(namespace, name));
    const owner = s?.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
    if (s?.metadata?.labels?.[labels.managed] !== "true" || !owner) continue;
    if (owner.name === podName && owner.uid === uid) out.push(s);
  }
  return out;
}

/**
 * countCarriers counts the carriers of the trust bundle and those not holding `ca`'s bundle: the
 * identity Secret of every live pod whose leaf meshid verifies, the bundle ConfigMap of every
 * namespace with a MeshIdentity, the webhook configuration's caBundles, and the
 * ClusterTrustBundle when the API server serves one.
 */
export async function countCarriers(
  deps: InventoryDeps,
  ca: SigningCa,
): Promise<{ total: number; pending: number }> {
  const { bundles, identities, existing, kube, config } = deps;
  const bundle = ca.trustBundlePem;
  let total = 0;
  let pending = 0;
  const count = (stale: boolean) => {
    total++;
    if (stale) pending++;
  };
  for (const s of boundSecrets(deps)) {
    // A version not verified yet (a restart, another writer's edit) counts until the pod
    // reconcile, which reads it whole, has judged it.
    if (knownExisting(s, ca, existing)?.chain === "untrusted") continue;
    count(trustBundleStale(secretText(s.data, "ca.crt"), bundle));
  }
  const namespaces = new Set(identities.list().map((m) => m.metadata?.namespace ?? ""));
  for (const ns of namespaces) {
    const cm = bundles.get(objectKey(ns, trustBundleConfigMap));
    count(trustBundleStale(cm?.data?.[trustBundleKey], bundle));
  }
  const webhook = await kube.getMutatingWebhookConfiguration(config.webhookConfigName);
  const want = b64(bundle);
  for (const w of webhook?.webhooks ?? []) count(w.clientConfig.caBundle !== want);
  let ctb;
  try {
    ctb = await kube.getClusterTrustBundle(clusterTrustBundleName);
  } catch {
    ctb = undefined; // not served by this API server: nothing carries the bundle there
  }
  if (ctb) count(trustBundleStale(ctb.spec.trustBundle, bundle));
  return { total, pending };
}

/**
 * leavesOnPrevious counts live leaves, verified, signed by another CA than the current one. A
 * Secret version not verified yet counts too: until it is judged, the old root must stay trusted.
 */
export function leavesOnPrevious(deps: InventoryDeps, ca: SigningCa): number {
  return boundSecrets(deps).filter((s) => {
    const chain = knownExisting(s, ca, deps.existing)?.chain;
    return chain === undefined || chain === "other-trusted";
  }).length;
}

/**
 * podCertificateLifetimeMs is the longest life of a pod certificate meshid signs for kubelet (a
 * MeshIdentity with PodCertificate delivery), or 0 when none delivers that way. Those leaves are
 * held by kubelet, not in Secrets, so a rotation can only bound when the last one under the old
 * root expires.
 */
export function podCertificateLifetimeMs(
  deps: Pick<InventoryDeps, "identities" | "config">,
): number {
  let longest = 0;
  for (const mi of deps.identities.list()) {
    try {
      const spec = resolveSpec(mi.spec, { defaultDurationMs: deps.config.defaultDurationMs });
      if (spec.delivery === "PodCertificate" && spec.durationMs > longest)
        longest = spec.durationMs;
    } catch {
      // An invalid spec signs nothing.
    }
  }
  return longest;
}
