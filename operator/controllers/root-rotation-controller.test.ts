import type {
  CoreV1Event,
  V1ConfigMap,
  V1MutatingWebhookConfiguration,
  V1Pod,
  V1Secret,
} from "@kubernetes/client-node";
import type { MeshCA, RootRotation } from "../../api/v1alpha1/meshca";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import {
  bootstrapSecretData,
  bundleFingerprints,
  decodeCaSecretData,
  loadSigningCa,
  type SigningCa,
} from "../pki";
import { newTestCa } from "../pki/testing/fixtures";
import { ApiError } from "../kube/errors";
import type {
  ClusterTrustBundlePort,
  EventPort,
  MeshCaRotationPort,
  SecretPort,
  WebhookConfigPort,
} from "../kube/client";
import { FakeClock } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { issuedSecret } from "../testing/issued-secret";
import { podSecretName, trustBundleConfigMap, trustBundleKey } from "../policy/naming";
import { createLogger } from "../logger";
import type { CaStatus } from "./ca-manager";
import { ExistingCache } from "./existing";
import { RootRotationController } from "./root-rotation-controller";

const ns = "meshid-system";
const b64 = (t: string) => Buffer.from(t).toString("base64");
const conflict = () => new ApiError(409, "Conflict", "the object has been modified");

/** FakeKube keeps Secrets and the MeshCA in memory, with resourceVersions checked on write. */
class FakeKube
  implements MeshCaRotationPort, SecretPort, EventPort, WebhookConfigPort, ClusterTrustBundlePort
{
  secrets = new Map<string, V1Secret>();
  meshCa: MeshCA = {
    apiVersion: "meshid.dev/v1alpha1",
    kind: "MeshCA",
    metadata: { name: "meshid", generation: 1 },
  };
  events: CoreV1Event[] = [];
  writes: string[] = [];
  private rv = 1;

  put(name: string, data: Record<string, string>): void {
    this.secrets.set(name, {
      metadata: {
        name,
        namespace: ns,
        uid: `uid-${name}-${this.rv}`,
        resourceVersion: `${this.rv++}`,
      },
      data,
    });
  }
  async getSecret(_ns: string, name: string) {
    return this.secrets.get(name);
  }
  async createSecret(_ns: string, s: V1Secret) {
    const name = s.metadata!.name!;
    if (this.secrets.has(name)) throw conflict();
    this.writes.push(`create ${name}`);
    this.put(name, s.data!);
    return this.secrets.get(name)!;
  }
  async replaceSecret(_ns: string, s: V1Secret) {
    const name = s.metadata!.name!;
    const have = this.secrets.get(name);
    if (!have || have.metadata?.resourceVersion !== s.metadata?.resourceVersion) throw conflict();
    this.writes.push(`replace ${name}`);
    this.put(name, s.data!);
    return this.secrets.get(name)!;
  }
  async deleteSecret(_ns: string, name: string) {
    this.writes.push(`delete ${name}`);
    this.secrets.delete(name);
  }
  async getMeshCa() {
    return structuredClone(this.meshCa);
  }
  async patchMeshCaRotation(_n: string, rotation: unknown, resourceVersion?: string) {
    if (resourceVersion !== this.meshCa.metadata.resourceVersion) throw conflict();
    const merged: Record<string, unknown> = { ...this.meshCa.status?.rotation };
    for (const [k, v] of Object.entries(rotation as Record<string, unknown>))
      if (v === null) delete merged[k];
      else merged[k] = v;
    this.meshCa.status = { ...this.meshCa.status, rotation: merged as unknown as RootRotation };
    this.meshCa.metadata.resourceVersion = `${this.rv++}`;
    this.writes.push("patch meshca/status");
  }
  async createEvent(_ns: string, e: CoreV1Event) {
    this.events.push(e);
  }
  async getMutatingWebhookConfiguration(): Promise<V1MutatingWebhookConfiguration | undefined> {
    return undefined;
  }
  async patchMutatingWebhookConfiguration() {}
  async getClusterTrustBundle() {
    return undefined;
  }
  async createClusterTrustBundle(): Promise<never> {
    throw new Error("not used");
  }
  async replaceClusterTrustBundle(): Promise<never> {
    throw new Error("not used");
  }
}

const now = new Date("2026-11-28T12:00:00Z");

/** pod is a live pod of namespace shop; its identity Secret is meshid-<name>. */
const pod = (name: string): V1Pod => ({
  metadata: { name, namespace: "shop", uid: `pod-uid-${name}`, labels: { app: "pay" } },
  spec: { serviceAccountName: "payments", containers: [] },
});

/** identity selects the pods above: only a selected pod's identity Secret is counted. */
const identity: MeshIdentity = {
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: { name: "payments", namespace: "shop", uid: "mi-1", generation: 1 },
  spec: { selector: { matchLabels: { app: "pay" } } },
};

/** leafSecret is pod `podName`'s identity Secret, bound to it, trusting `ca`'s bundle. */
const leafSecret = (ca: SigningCa, podName: string) =>
  issuedSecret(ca, {
    name: podSecretName(podName)!,
    now,
    owner: { name: podName, uid: `pod-uid-${podName}` },
    bundlePem: ca.trustBundlePem,
    resourceVersion: `${Math.random()}`,
  });

async function setup(mode: "bootstrap" | "external" = "bootstrap") {
  const { boot, ca: first } = await newTestCa({ now });
  const kube = new FakeKube();
  const data = bootstrapSecretData(boot);
  kube.put("meshid-ca", { ...data.intermediate });
  if (mode === "bootstrap") kube.put("meshid-root-ca", { ...data.root });
  let status: CaStatus = { ready: true, ca: first };
  // The namespace's bundle ConfigMap, kept by the trust-bundle publisher in the operator.
  const bundles = new MemoryCache<V1ConfigMap>();
  const publish = (pem: string) =>
    bundles.put({
      metadata: { name: trustBundleConfigMap, namespace: "shop" },
      data: { [trustBundleKey]: pem },
    });
  publish(first.trustBundlePem);
  // The CA manager, narrowly: it loads whatever meshid-ca holds, and the publisher follows.
  const recheckCa = async () => {
    const pems = decodeCaSecretData(kube.secrets.get("meshid-ca")!.data);
    status = { ready: true, ca: await loadSigningCa({ ...pems, rootsPem: pems.caPem, now }) };
    publish(status.ca.trustBundlePem);
  };
  const secrets = new MemoryCache<V1Secret>([
    await leafSecret(first, "a"),
    await leafSecret(first, "b"),
  ]);
  const clock = new FakeClock(now);
  const transitions: string[] = [];
  const meshcas = new MemoryCache<MeshCA>();
  const controller = new RootRotationController({
    meshcas,
    pods: new MemoryCache<V1Pod>([pod("a"), pod("b")]),
    secrets,
    bundles,
    identities: new MemoryCache<MeshIdentity>([identity]),
    kube,
    ca: () => status,
    recheckCa,
    existing: new ExistingCache(),
    clock,
    logger: createLogger("error"),
    observer: { rotationTransition: (from, to) => transitions.push(`${from}→${to}`) },
    config: {
      namespace: ns,
      caSecret: "meshid-ca",
      rootCaSecret: "meshid-root-ca",
      caMode: mode,
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      allowedDnsSuffixes: [],
      caIntermediateValidityMs: 30 * 86_400_000,
      caRootValidityMs: 365 * 86_400_000,
      caRotationSoakMs: 120_000,
      caRecheckPeriodMs: 30_000,
      webhookConfigName: "meshid",
      defaultDurationMs: 86_400_000,
    },
  });
  const ca = () => (status.ready ? status.ca : undefined)!;
  /** pods does what the pod controller does: rewrite ca.crt, or re-issue with the current CA. */
  const pods = async (reissue: boolean) => {
    for (const s of secrets.list()) {
      const podName = s.metadata!.ownerReferences![0]!.name;
      if (reissue) secrets.put(await leafSecret(ca(), podName));
      else
        secrets.put({
          ...s,
          metadata: { ...s.metadata, resourceVersion: `${Math.random()}` },
          data: { ...s.data, "ca.crt": b64(ca().trustBundlePem) },
        });
    }
  };
  const rotation = () => kube.meshCa.status?.rotation;
  /** request sets spec.rootRotation; like the API server, a spec change bumps the generation. */
  const request = (token?: string) => {
    kube.meshCa.spec = token ? { rootRotation: token } : {};
    kube.meshCa.metadata.generation = (kube.meshCa.metadata.generation ?? 0) + 1;
  };
  const forge = async (name: string, from: V1Secret) =>
    secrets.put({ ...from, metadata: { ...from.metadata, name, uid: `uid-${name}` } });
  const bundle = () =>
    bundleFingerprints(decodeCaSecretData(kube.secrets.get("meshid-ca")!.data).caPem);
  return {
    ...{ kube, controller, clock, pods, rotation, request, bundle, transitions, first, ca },
    secrets,
    meshcas,
    forge,
  };
}

describe("RootRotationController.reconcile", () => {
  it("takes a bootstrap rotation from the request to Retired, one step per reconcile", async () => {
    const t = await setup();
    const oldRoot = t.bundle();
    expect(await t.controller.reconcile()).toEqual({ requeueAfterMs: 30_000 });
    expect(t.kube.writes).toEqual([]);

    t.request("r1");
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ id: "r1", phase: "Prepared" });
    expect(t.kube.writes).toEqual([
      "create meshid-root-ca-next",
      "create meshid-ca-next",
      "patch meshca/status",
    ]);

    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Propagating");
    const both = t.bundle();
    expect(both).toHaveLength(2);
    expect(both).toContain(oldRoot[0]);

    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({
      phase: "Propagating",
      carriers: { total: 3, pending: 2 },
    });
    expect(t.rotation()?.message).toMatch(/waiting for 2 carrier/);

    await t.pods(false);
    await t.controller.reconcile();
    expect(t.rotation()?.carriersUpdatedAt).toBe(now.toISOString());
    const writes = t.kube.writes.length;
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ phase: "Propagating" });
    expect(t.rotation()?.message).toMatch(/soaking until/);
    await t.controller.reconcile();
    expect(t.kube.writes.length).toBe(writes + 1); // the soak message, once

    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Active");
    expect(t.ca().fingerprint).toBe(t.rotation()?.nextIntermediate?.fingerprint);

    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Draining");
    await t.controller.reconcile();
    expect(t.rotation()?.message).toMatch(/2 live leaf/);

    await t.pods(true);
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({
      phase: "Draining",
      leavesMovedAt: t.clock.now().toISOString(),
    });
    await t.controller.reconcile();
    expect(t.rotation()?.message).toMatch(/soaking until .* before the old root is retired/);
    expect(t.bundle()).toHaveLength(2);
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ phase: "Retired", completed: "r1" });
    const newRoot = t.rotation()!.nextRoots!.map((r) => r.fingerprint);
    expect(t.bundle()).toEqual(newRoot);
    expect(t.kube.secrets.has("meshid-ca-next")).toBe(false);
    expect(t.kube.secrets.has("meshid-root-ca-next")).toBe(false);
    const root = decodeCaSecretData(t.kube.secrets.get("meshid-root-ca")!.data);
    expect(bundleFingerprints(root.certPem)).toEqual(newRoot);
    const backup = t.kube.secrets.get(`meshid-root-ca-retired-${oldRoot[0]!.slice(0, 16)}`);
    expect(bundleFingerprints(decodeCaSecretData(backup!.data).certPem)).toEqual(oldRoot);
    expect(t.transitions).toEqual([
      "None→Prepared",
      "Prepared→Propagating",
      "Propagating→Active",
      "Active→Draining",
      "Draining→Retired",
    ]);
    expect(t.kube.events.map((e) => e.reason)).toEqual(Array(5).fill("CARotationPhaseChanged"));

    const done = t.kube.writes.length;
    await t.controller.reconcile();
    expect(t.kube.writes.length).toBe(done);
  });

  it("counts no copy of a Secret as a carrier or a leaf: only each live pod's own identity Secret", async () => {
    const t = await setup();
    const [original] = t.secrets.list();
    // A pod's author copies its own Secret (old bundle, old leaf) under another name.
    await t.forge("meshid-copy", original!);
    t.request("r1");
    await t.controller.reconcile();
    await t.controller.reconcile();
    await t.pods(false);
    await t.forge("meshid-copy", original!);
    await t.controller.reconcile();
    expect(t.rotation()?.carriers).toEqual({ total: 3, pending: 0 });
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Draining");
    await t.pods(true);
    await t.forge("meshid-copy", original!);
    await t.controller.reconcile();
    expect(t.rotation()?.leavesMovedAt).toBeDefined();
  });

  it("rolls back before Active: the next root leaves the bundle and the prepared Secrets go", async () => {
    const t = await setup();
    const oldRoot = t.bundle();
    t.request("r1");
    await t.controller.reconcile();
    await t.controller.reconcile();
    expect(t.bundle()).toHaveLength(2);
    t.request(undefined);
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("RolledBack");
    expect(t.bundle()).toEqual(oldRoot);
    expect(t.kube.secrets.has("meshid-ca-next")).toBe(false);
    expect(t.kube.secrets.has("meshid-root-ca-next")).toBe(false);
    expect(t.ca().fingerprint).toBe(t.first.fingerprint);
  });

  it("refuses a rollback after Active and goes on", async () => {
    const t = await setup();
    t.request("r1");
    for (let i = 0; i < 3; i++) await t.controller.reconcile();
    await t.pods(false);
    await t.controller.reconcile();
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Active");
    t.request("r0");
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ phase: "Draining", refused: "r0" });
    expect(t.rotation()?.message).toMatch(/cannot be rolled back/);
    expect(t.kube.events.some((e) => e.reason === "CARotationRefused")).toBe(true);

    // A later rotation rolled back to the refused token starts nothing.
    await t.pods(true);
    await t.controller.reconcile();
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ phase: "Retired", completed: "r1" });
    t.request("r2");
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ id: "r2", phase: "Prepared", refused: "r0" });
    t.request("r0");
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("RolledBack");
    const writes = t.kube.writes.length;
    await t.controller.reconcile();
    expect(t.kube.writes.length).toBe(writes);
    expect(t.rotation()?.phase).toBe("RolledBack");
  });

  it("takes an external rotation through every phase with the intermediate the user supplied", async () => {
    const t = await setup("external");
    const oldRoot = t.bundle();
    const user = await newTestCa({ now, rootCommonName: "enterprise root G2" });
    t.kube.put("meshid-ca-next", { ...bootstrapSecretData(user.boot).intermediate });
    t.request("r1");
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({
      phase: "Prepared",
      nextIntermediate: { fingerprint: user.ca.fingerprint },
    });
    expect(t.kube.writes).toEqual(["patch meshca/status"]);
    await t.controller.reconcile();
    expect(t.bundle()).toHaveLength(2);
    await t.pods(false);
    await t.controller.reconcile();
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()?.phase).toBe("Active");
    expect(t.ca().fingerprint).toBe(user.ca.fingerprint);
    await t.controller.reconcile();
    await t.pods(true);
    await t.controller.reconcile();
    await t.clock.advance(120_000);
    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ phase: "Retired", completed: "r1" });
    expect(t.bundle()).not.toContain(oldRoot[0]);
    expect(t.bundle()).toEqual(bundleFingerprints(user.boot.root.certPem));
    expect(t.kube.secrets.has("meshid-ca-next")).toBe(false);
    expect(t.kube.writes.filter((w) => w.includes("root-ca"))).toEqual([]);
  });

  it("reports a corrupt next intermediate and never overwrites it", async () => {
    const t = await setup("external");
    t.kube.put("meshid-ca-next", {
      "tls.crt": b64("not a certificate"),
      "tls.key": "",
      "ca.crt": "",
    });
    const before = t.kube.secrets.get("meshid-ca-next");
    t.request("r1");
    expect(await t.controller.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(t.rotation()).toMatchObject({ id: "r1", phase: "Pending" });
    expect(t.rotation()?.message).toMatch(/meshid-system\/meshid-ca-next/);
    expect(t.kube.secrets.get("meshid-ca-next")).toBe(before);
    expect(t.kube.events.map((e) => e.reason)).toContain("CARotationBlocked");
    expect(t.bundle()).toHaveLength(1);
  });

  it("writes nothing when the MeshCA changed since it was read", async () => {
    const t = await setup();
    t.request("r1");
    const patch = t.kube.patchMeshCaRotation.bind(t.kube);
    t.kube.patchMeshCaRotation = async (n, r) => patch(n, r, "stale");
    expect(await t.controller.reconcile()).toEqual({ requeueAfterMs: 2_000 });
    expect(t.rotation()).toBeUndefined();
  });
});

describe("RootRotationController.watches", () => {
  it("wakes the controller for a change of the MeshCA spec, never for a write of its status", async () => {
    const t = await setup();
    const keys: string[] = [];
    for (const w of t.controller.watches()) w.subscribe((k) => keys.push(...k));
    const observe = () => t.meshcas.put(structuredClone(t.kube.meshCa));
    await t.controller.reconcile();
    observe();
    expect(keys).toEqual([]);

    t.request("r1");
    observe();
    expect(keys).toEqual(["meshid"]);

    await t.controller.reconcile();
    expect(t.rotation()).toMatchObject({ id: "r1", phase: "Prepared" });
    observe();
    expect(keys).toEqual(["meshid"]);

    t.request();
    observe();
    expect(keys).toEqual(["meshid", "meshid"]);
  });
});
