/**
 * The informers every controller reads, created once through the manager: pods (slimmed to what
 * the operator reads, indexed by UID), the Secrets meshid manages (indexed by the pod they are
 * bound to), MeshIdentities, and the trust-bundle ConfigMaps (selected by name).
 */
import type { KubeConfig, V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../api/v1alpha1/types";
import { GROUP, PLURAL, VERSION } from "../api/v1alpha1/names";
import type { Informer } from "./kube/informer";
import type { ControllerManager } from "./kube/manager";
import { slimPod, withoutManagedFields } from "./kube/objects";
import {
  customResourceSource,
  namedConfigMapSource,
  podSource,
  secretSource,
} from "./kube/sources";
import { labels, managedValue, trustBundleConfigMap } from "./policy/naming";
import { podsByUid, secretsByPod } from "./controllers/cache";

/** Caches are the shared informers. */
export interface Caches {
  pods: Informer<V1Pod>;
  secrets: Informer<V1Secret>;
  identities: Informer<MeshIdentity>;
  bundles: Informer<V1ConfigMap>;
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
      transform: withoutManagedFields,
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
  };
}
