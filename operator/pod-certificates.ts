/**
 * The Pod Certificates wiring: when the API server serves PodCertificateRequests, their cache and
 * the signer meshid.dev/identity; when it serves ClusterTrustBundles, the bundle's publisher. The
 * ledger of issued pod certificates is returned for the MeshIdentity counts.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubeClient } from "./kube/client";
import type { ControllerManager } from "./kube/manager";
import type { Logger } from "./logger";
import { registerPodCertificateCache } from "./caches";
import { PcrController, type PcrControllerDeps } from "./controllers/pcr-controller";
import { PodCertificateLedger } from "./controllers/pod-certificate-ledger";
import {
  TrustBundlePublisher,
  type TrustBundlePublisherDeps,
} from "./controllers/trust-bundle-publisher";

/** podCertificateApi is the API of Kubernetes Pod Certificates that meshid signs for. */
const podCertificateApi = ["certificates.k8s.io/v1beta1", "podcertificaterequests"] as const;

/** clusterTrustBundleApi is where meshid publishes its signer's trust bundle, when served. */
const clusterTrustBundleApi = ["certificates.k8s.io/v1beta1", "clustertrustbundles"] as const;

/** addPodCertificates adds what the API server supports of Pod Certificates to the manager. */
export async function addPodCertificates(
  manager: ControllerManager,
  kc: KubeConfig,
  client: KubeClient,
  deps: Omit<PcrControllerDeps, "pcrs" | "ledger"> & TrustBundlePublisherDeps & { logger: Logger },
): Promise<Pick<PcrControllerDeps, "ledger" | "pcrs"> | { ledger: PodCertificateLedger }> {
  const ledger = new PodCertificateLedger();
  if (await client.servesResource(...clusterTrustBundleApi))
    manager.add(new TrustBundlePublisher(deps));
  if (!(await client.servesResource(...podCertificateApi))) {
    deps.logger.info("Pod Certificates are not served; signer meshid.dev/identity is off");
    return { ledger };
  }
  const pcrs = registerPodCertificateCache(manager, kc);
  manager.add(new PcrController({ ...deps, pcrs, ledger }));
  return { ledger, pcrs };
}
