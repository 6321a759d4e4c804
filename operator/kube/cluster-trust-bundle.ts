/**
 * ClusterTrustBundle (certificates.k8s.io/v1beta1): meshid's trust bundle linked to its pod
 * certificate signer, so workloads and kubelet (clusterTrustBundle projections) can find it by
 * signer name. client-node 0.20 has no type for it.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { signerName } from "../policy/naming";

/** ClusterTrustBundle is a cluster-scoped set of trust anchors, optionally linked to a signer. */
export interface ClusterTrustBundle {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: { signerName?: string; trustBundle: string };
}

/**
 * clusterTrustBundleName is the bundle's name: a signer-linked bundle's name must start with the
 * signer name with "/" replaced by ":", then ":".
 */
export const clusterTrustBundleName = `${signerName.replace("/", ":")}:primary-bundle`;

/** buildClusterTrustBundle is meshid's signer-linked bundle holding `bundlePem`. */
export function buildClusterTrustBundle(
  bundlePem: string,
  resourceVersion?: string,
): ClusterTrustBundle {
  return {
    apiVersion: "certificates.k8s.io/v1beta1",
    kind: "ClusterTrustBundle",
    metadata: {
      name: clusterTrustBundleName,
      labels: { "app.kubernetes.io/managed-by": "meshid" },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec: { signerName, trustBundle: bundlePem },
  };
}
