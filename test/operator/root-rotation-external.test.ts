/**
 * A root rotation in external mode: the user supplies the next intermediate, under a new root, in
 * `meshid-ca-next`. Until it is there and valid, the rotation is Pending and says why, and the
 * Secret is never written by the operator; once it is, the rotation runs to Retired, every leaf
 * ends under the user's new root, and the old root leaves every ca.crt.
 */
import { X509Certificate } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import type { RootRotation } from "../../api/v1alpha1/meshca";
import { bootstrapCa, encodeCaSecretData } from "../../operator/pki";
import { createNamespace, eventually, kubectl, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPods,
  managedSecrets,
  opensslVerifyChain,
  secretText,
  splitPem,
} from "../support/meshid";

jest.setTimeout(180_000);

const kc = testKubeConfig();
const pods = 6;
let op: OperatorProcess;
let opNs = "";

const newCa = (name: string) =>
  bootstrapCa({
    trustDomain: "cluster.local",
    clusterDomain: "cluster.local",
    dnsSuffixes: ["svc"],
    now: new Date(),
    rootCommonName: name,
  });
const fingerprint = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
const fingerprints = (pem: string) => splitPem(pem).map(fingerprint).sort();

async function rotation(): Promise<RootRotation | undefined> {
  const out = await kubectl(["get", "meshca", "meshid", "-o", "json"]);
  return (JSON.parse(out) as { status?: { rotation?: RootRotation } }).status?.rotation;
}

async function secret(name: string): Promise<k8s.V1Secret | undefined> {
  try {
    return (await core.readNamespacedSecret(name, opNs)).body;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  await kubectl(["delete", "meshca", "meshid", "--ignore-not-found"]);
  opNs = await createNamespace(kc, "meshid-ext");
  const current = await newCa("enterprise root G1");
  await core.createNamespacedSecret(opNs, {
    metadata: { name: "meshid-ca" },
    type: "kubernetes.io/tls",
    data: { ...encodeCaSecretData({ ...current.intermediate, caPem: current.root.certPem }) },
  });
  op = await startOperator({
    namespace: opNs,
    args: ["--ca-mode=external", "--ca-recheck-period=3s", "--ca-rotation-soak=3s"],
  });
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
  await kubectl(["delete", "meshca", "meshid", "--ignore-not-found"]).catch(() => undefined);
});

describe("an external root rotation", () => {
  it("waits for a valid meshid-ca-next, never writes it, then moves every leaf to the new root", async () => {
    const ns = await createNamespace(kc, "ext-rotate");
    await createIdentity(ns, "mesh", { selector: { matchLabels: { app: "mesh" } } });
    await createPods(ns, "mesh", pods, { app: "mesh" });
    await eventually(
      async () => expect((await managedSecrets(ns)).length).toBeGreaterThanOrEqual(pods),
      { timeoutMs: 60_000 },
    );
    await eventually(() => kubectl(["get", "meshca", "meshid"]), { timeoutMs: 30_000 });
    await kubectl([
      "patch",
      "meshca",
      "meshid",
      "--type=merge",
      "-p",
      '{"spec":{"rootRotation":"ext-1"}}',
    ]);
    await eventually(
      async () => {
        const r = await rotation();
        expect(r).toMatchObject({ id: "ext-1", phase: "Pending" });
        expect(r?.message).toMatch(/meshid-ca-next does not exist/);
      },
      { timeoutMs: 30_000 },
    );

    // A next intermediate whose key is not its certificate's: reported, left as it is.
    const next = await newCa("enterprise root G2");
    const other = await newCa("someone else");
    await core.createNamespacedSecret(opNs, {
      metadata: { name: "meshid-ca-next" },
      type: "kubernetes.io/tls",
      data: {
        ...encodeCaSecretData({
          certPem: next.intermediate.certPem,
          keyPem: other.intermediate.keyPem,
          caPem: next.root.certPem,
        }),
      },
    });
    const written = (await secret("meshid-ca-next"))!.metadata?.resourceVersion;
    await eventually(
      async () => {
        const r = await rotation();
        expect(r?.phase).toBe("Pending");
        expect(r?.message).toMatch(/meshid-ca-next is not a usable CA: .*private key/i);
      },
      { timeoutMs: 30_000 },
    );
    expect((await secret("meshid-ca-next"))!.metadata?.resourceVersion).toBe(written);
    const blocked = (await core.listNamespacedEvent(opNs)).body.items.filter(
      (e) => e.reason === "CARotationBlocked",
    );
    expect(blocked.length).toBeGreaterThan(0);
    for (const s of await managedSecrets(ns))
      expect(fingerprints(secretText(s, "ca.crt"))).toHaveLength(1);

    // The right key: the rotation runs to the end.
    await core.replaceNamespacedSecret("meshid-ca-next", opNs, {
      metadata: { name: "meshid-ca-next" },
      type: "kubernetes.io/tls",
      data: { ...encodeCaSecretData({ ...next.intermediate, caPem: next.root.certPem }) },
    });
    const newRoot = fingerprint(next.root.certPem);
    await eventually(
      async () => {
        expect(await rotation()).toMatchObject({
          id: "ext-1",
          phase: "Retired",
          completed: "ext-1",
        });
        for (const s of await managedSecrets(ns)) {
          expect(fingerprints(secretText(s, "ca.crt"))).toEqual([newRoot]);
          opensslVerifyChain(secretText(s, "tls.crt"), next.root.certPem);
        }
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    const ca = (await secret("meshid-ca"))!;
    expect(fingerprints(secretText(ca, "ca.crt"))).toEqual([newRoot]);
    expect(fingerprint(splitPem(secretText(ca, "tls.crt"))[0]!)).toBe(
      fingerprint(next.intermediate.certPem),
    );
    expect(await secret("meshid-ca-next")).toBeUndefined();
  });
});
