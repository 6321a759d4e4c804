/**
 * TrustBundlePublisher keeps meshid's trust bundle published as a ClusterTrustBundle linked to
 * signer meshid.dev/identity (when the API server serves ClusterTrustBundles), beside the
 * per-namespace `meshid-ca-bundle` ConfigMaps. One key; woken when leading starts, on every CA
 * change and on resync, which also restores a deleted or edited bundle.
 */
import type { Logger } from "../logger";
import type { ClusterTrustBundlePort } from "../kube/client";
import { buildClusterTrustBundle, clusterTrustBundleName } from "../kube/cluster-trust-bundle";
import type { Controller, Watch } from "../kube/manager";
import type { ReconcileResult } from "../kube/queue";
import type { CaStatus } from "./ca-manager";

/** TrustBundlePublisherDeps are the ports the publisher uses. */
export interface TrustBundlePublisherDeps {
  kube: ClusterTrustBundlePort;
  ca: () => CaStatus;
  logger: Logger;
}

/** caRetryMs is how soon the bundle is looked at again while the CA is not ready. */
const caRetryMs = 15_000;

/** TrustBundlePublisher reconciles the one ClusterTrustBundle meshid owns. */
export class TrustBundlePublisher implements Controller {
  readonly name = "clustertrustbundles";
  readonly concurrency = 1;

  constructor(private readonly deps: TrustBundlePublisherDeps) {}

  /** watches: none; CA changes and resync queue allKeys. */
  watches(): Watch[] {
    return [];
  }

  allKeys(): string[] {
    return [clusterTrustBundleName];
  }

  /** reconcile creates or corrects the bundle; an unchanged bundle costs one read. */
  async reconcile(): Promise<ReconcileResult> {
    const { kube, logger } = this.deps;
    const ca = this.deps.ca();
    if (!ca.ready) return { requeueAfterMs: caRetryMs };
    const want = ca.ca.trustBundlePem;
    const found = await kube.getClusterTrustBundle(clusterTrustBundleName);
    if (found?.spec.trustBundle === want && found.spec.signerName !== undefined) return {};
    if (!found) {
      // A conflict (created meanwhile) fails this reconcile; the retry compares the stored one.
      await kube.createClusterTrustBundle(buildClusterTrustBundle(want));
      logger.info("Published ClusterTrustBundle", { name: clusterTrustBundleName });
      return {};
    }
    await kube.replaceClusterTrustBundle(
      buildClusterTrustBundle(want, found.metadata?.resourceVersion),
    );
    logger.info("Updated ClusterTrustBundle", { name: clusterTrustBundleName });
    return {};
  }
}
