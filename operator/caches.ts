/**
 * The informers every controller reads, created once through the manager: pods (slimmed to what
 * the operator reads, indexed by UID), the Secrets meshid manages (without tls.crt and tls.key,
 * indexed by the pod they are bound to), MeshIdentities, the trust-bundle ConfigMaps (selected by
 * name), and the one MeshCA (selected by name), whose spec carries the root rotation request.
 */
import type { KubeConfig, V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../api/v1alpha1/types";
import { MESHCA_NAME, MESHCA_PLURAL, type MeshCA } from "../api/v1alpha1/meshca";
import { GROUP, PLURAL, VERSION } from "../api/v1alpha1/names";
import type { Informer } from "./kube/informer";
import type { ControllerManager } from "./kube/manager";
import { slimPod, slimSecret, withoutManagedFields } from "./kube/objects";
import {
  customResourceSource,
  namedConfigMapSource,
  podCertificateRequestSource,
  podSource,
  secretSource,
} from "./kube/sources";
import type { PodCertificateRequest } from "./kube/pod-certificate-request";
import { labels, managedValue, signerName, trustBundleConfigMap } from "./policy/naming";
import { podsByUid, secretsByPod } from "./controllers/cache";

/** Caches are the shared informers. */
export interface Caches {
  pods: Informer<V1Pod>;
  secrets: Informer<V1Secret>;
  identities: Informer<MeshIdentity>;
  bundles: Informer<V1ConfigMap>;
  meshcas: Informer<MeshCA>;
}

/** registerCaches creates the shared informers; the manager starts them. */
export function registerCaches(manager: ControllerManager, kc: KubeConfig): Caches {
  return {
    pods: manager.informer("pods", {
      source: podSource(kc),
      transform: slimPod,
      indexes: [podsByUid],
    }),
    secrets: manager.informer("secrets", {
      source: secretSource(kc, `${labels.managed}=${managedValue}`),
      transform: slimSecret,
      indexes: [secretsByPod],
    }),
    identities: manager.informer(`${PLURAL}.${GROUP}`, {
      source: customResourceSource<MeshIdentity>(kc, GROUP, VERSION, PLURAL),
      transform: withoutManagedFields,
    }),
    bundles: manager.informer("configmaps", {
      source: namedConfigMapSource(kc, trustBundleConfigMap),
      transform: withoutManagedFields,
    }),
    meshcas: manager.informer(`${MESHCA_PLURAL}.${GROUP}`, {
      source: customResourceSource<MeshCA>(
        kc,
        GROUP,
        VERSION,
        MESHCA_PLURAL,
        `metadata.name=${MESHCA_NAME}`,
      ),
    }),
  };
}

/**
 * registerPodCertificateCache creates the informer of the PodCertificateRequests addressed to
 * meshid's signer; only when the API server serves them (Pod Certificates are off by default
 * before Kubernetes 1.37), else its first list would never complete.
 */
export function registerPodCertificateCache(
  manager: ControllerManager,
  kc: KubeConfig,
): Informer<PodCertificateRequest> {
  return manager.informer("podcertificaterequests", {
    source: podCertificateRequestSource(kc, signerName),
    transform: withoutManagedFields,
  });
}
