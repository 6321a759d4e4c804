import type { ClusterTrustBundlePort } from "../kube/client";
import type { ClusterTrustBundle } from "../kube/cluster-trust-bundle";
import { newTestCa } from "../pki/testing/fixtures";
import type { SigningCa } from "../pki";
import { createLogger } from "../logger";
import type { CaStatus } from "./ca-manager";
import { TrustBundlePublisher } from "./trust-bundle-publisher";

/** FakeBundles stores one ClusterTrustBundle and records the writes. */
class FakeBundles implements ClusterTrustBundlePort {
  stored?: ClusterTrustBundle;
  writes: string[] = [];
  private rv = 1;
  async getClusterTrustBundle() {
    return this.stored;
  }
  async createClusterTrustBundle(ctb: ClusterTrustBundle) {
    this.writes.push("create");
    this.stored = { ...ctb, metadata: { ...ctb.metadata, resourceVersion: String(this.rv++) } };
    return this.stored;
  }
  async replaceClusterTrustBundle(ctb: ClusterTrustBundle) {
    if (ctb.metadata?.resourceVersion !== this.stored?.metadata?.resourceVersion)
      throw new Error("stale resourceVersion");
    this.writes.push("update");
    this.stored = { ...ctb, metadata: { ...ctb.metadata, resourceVersion: String(this.rv++) } };
    return this.stored;
  }
}

let first: SigningCa;
let second: SigningCa;
beforeAll(async () => {
  first = (await newTestCa()).ca;
  second = (await newTestCa()).ca;
});

describe("TrustBundlePublisher.reconcile", () => {
  it("publishes the CA's roots linked to the signer, writes nothing when current, and follows a CA change", async () => {
    const kube = new FakeBundles();
    let ca: CaStatus = { ready: true, ca: first };
    const publisher = new TrustBundlePublisher({
      kube,
      ca: () => ca,
      logger: createLogger("error"),
    });
    expect(publisher.allKeys()).toEqual(["meshid.dev:identity:primary-bundle"]);
    await publisher.reconcile();
    expect(kube.stored?.spec).toEqual({
      signerName: "meshid.dev/identity",
      trustBundle: first.trustBundlePem,
    });
    await publisher.reconcile();
    expect(kube.writes).toEqual(["create"]);
    ca = { ready: true, ca: second };
    await publisher.reconcile();
    expect(kube.writes).toEqual(["create", "update"]);
    expect(kube.stored?.spec.trustBundle).toBe(second.trustBundlePem);
  });

  it("waits for a CA that is not ready, writing nothing", async () => {
    const kube = new FakeBundles();
    const publisher = new TrustBundlePublisher({
      kube,
      ca: () => ({ ready: false, reason: "CASecretMissing", message: "gone" }),
      logger: createLogger("error"),
    });
    expect((await publisher.reconcile()).requeueAfterMs).toBeGreaterThan(0);
    expect(kube.writes).toEqual([]);
  });
});
