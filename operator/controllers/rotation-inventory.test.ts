import type { V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { newTestCa } from "../pki/testing/fixtures";
import { loadSigningCa, type SigningCa } from "../pki";
import { MemoryCache } from "../testing/memory-cache";
import { issuedSecret } from "../testing/issued-secret";
import { podSecretName } from "../policy/naming";
import { ExistingCache } from "./existing";
import {
  countCarriers,
  leavesOnPrevious,
  podCertificateLifetimeMs,
  type InventoryDeps,
} from "./rotation-inventory";

const now = new Date("2026-11-28T12:00:00Z");

const pod = (name: string, app = "pay"): V1Pod => ({
  metadata: { name, namespace: "shop", uid: `pod-uid-${name}`, labels: { app } },
  spec: { serviceAccountName: "payments", containers: [] },
});

const identity: MeshIdentity = {
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: { name: "payments", namespace: "shop", uid: "mi-1", generation: 1 },
  spec: { selector: { matchLabels: { app: "pay" } } },
};

/** secret is the identity Secret of pod `secretOf`, owned by `owner` (name and UID). */
const secret = (
  ca: SigningCa,
  secretOf: string,
  owner: { name: string; uid: string },
  bundlePem: string,
) => issuedSecret(ca, { name: podSecretName(secretOf)!, now, owner, bundlePem });

function deps(pods: V1Pod[], secrets: V1Secret[]): InventoryDeps {
  return {
    pods: new MemoryCache<V1Pod>(pods),
    secrets: new MemoryCache<V1Secret>(secrets),
    bundles: new MemoryCache<V1ConfigMap>(),
    identities: new MemoryCache<MeshIdentity>([identity]),
    existing: new ExistingCache(),
    kube: {
      getMutatingWebhookConfiguration: async () => undefined,
      getClusterTrustBundle: async () => undefined,
    },
    config: { webhookConfigName: "meshid", defaultDurationMs: 86_400_000 },
  } as unknown as InventoryDeps;
}

describe("the root rotation's inventory", () => {
  let previous: SigningCa;
  let current: SigningCa;
  beforeAll(async () => {
    const old = await newTestCa({ now });
    previous = old.ca;
    // The next intermediate signs, and the bundle holds both roots (Active, Draining).
    const next = await newTestCa({ now });
    current = await loadSigningCa({
      ...next.boot.intermediate,
      rootsPem: next.boot.root.certPem + old.boot.root.certPem,
      now,
    });
  });

  it("counts a selected pod's own identity Secret, bound by the pod's name and UID", async () => {
    const a = pod("a");
    const d = deps([a], [await secret(previous, "a", { name: "a", uid: "pod-uid-a" }, "old")]);
    expect(leavesOnPrevious(d, current)).toBe(1);
    // Its ca.crt and the namespace's missing bundle ConfigMap are both carriers to update.
    expect(await countCarriers(d, current)).toEqual({ total: 2, pending: 2 });
  });

  it("counts no Secret that names a pod no MeshIdentity selects, whichever live pod it points at", async () => {
    // A namespace admin plants meshid-tp for an unselected pod tp, owned by tp's UID under the
    // name of a selected pod q: nothing would ever judge it, so it must not hold a rotation.
    const tp = pod("tp", "other");
    const q = pod("q");
    const planted = await secret(previous, "tp", { name: "q", uid: "pod-uid-tp" }, "old");
    const d = deps([tp, q], [planted]);
    expect(leavesOnPrevious(d, current)).toBe(0);
    expect(await countCarriers(d, current)).toEqual({ total: 1, pending: 1 }); // the ConfigMap
  });

  it("counts no Secret whose owner names the pod but carries another UID, nor a finished pod's", async () => {
    const a = pod("a");
    const done: V1Pod = { ...pod("b"), status: { phase: "Succeeded" } };
    const d = deps(
      [a, done],
      [
        await secret(previous, "a", { name: "a", uid: "pod-uid-someone" }, "old"),
        await secret(previous, "b", { name: "b", uid: "pod-uid-b" }, "old"),
      ],
    );
    expect(leavesOnPrevious(d, current)).toBe(0);
  });

  it("bounds the pod certificates kubelet holds by the longest PodCertificate lifetime", () => {
    const d = deps([], []);
    expect(podCertificateLifetimeMs(d)).toBe(0);
    const pcr = (name: string, duration: string): MeshIdentity => ({
      ...identity,
      metadata: { ...identity.metadata, name },
      spec: { ...identity.spec, delivery: "PodCertificate", duration },
    });
    (d.identities as MemoryCache<MeshIdentity>).put(pcr("short", "2h"));
    (d.identities as MemoryCache<MeshIdentity>).put(pcr("long", "6h"));
    expect(podCertificateLifetimeMs(d)).toBe(6 * 3_600_000);
  });
});
