/**
 * Intermediate renewal with compressed lifetimes, on the real API server and operator process: a
 * 3-minute intermediate renewed at a quarter of its life is due 45 s after the bootstrap. The same process signs a successor with the same root, and every pod's leaf moves to
 * it, while the roots every Secret trusts never change.
 */
import { X509Certificate } from "node:crypto";
import { createNamespace, eventually, kubectl, testKubeConfig } from "../support/kube";
import type { MeshCAStatus } from "../../api/v1alpha1/meshca";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPods,
  managedSecrets,
  opensslVerify,
  secretText,
  splitPem,
} from "../support/meshid";

jest.setTimeout(180_000);

const kc = testKubeConfig();
let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator({
    args: ["--ca-intermediate-validity=3m", "--ca-renew-fraction=0.25", "--ca-recheck-period=5s"],
  });
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

const fingerprint = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();

async function caSecret(name: string) {
  return (await core.readNamespacedSecret(name, op.namespace)).body;
}

describe("intermediate renewal", () => {
  it("renews the intermediate before it expires, in the same process, and moves every leaf to it under the same root", async () => {
    const first = await caSecret("meshid-ca");
    const root = await caSecret("meshid-root-ca");
    const firstPem = secretText(first, "tls.crt");
    const firstCert = new X509Certificate(firstPem);
    const rootPem = secretText(root, "tls.crt");

    const ns = await createNamespace(kc, "renew-ca");
    await createIdentity(ns, "short", {
      selector: { matchLabels: { app: "short" } },
      duration: "10m",
    });
    await createPods(ns, "short", 4, { app: "short" });

    const renewed = await eventually(
      async () => {
        const s = await caSecret("meshid-ca");
        if (secretText(s, "tls.crt") === firstPem) throw new Error("not renewed yet");
        return s;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    const renewedAt = Date.now();
    expect(renewedAt).toBeLessThan(new Date(firstCert.validTo).getTime());
    const next = new X509Certificate(secretText(renewed, "tls.crt"));
    expect(next.verify(new X509Certificate(rootPem).publicKey)).toBe(true);
    expect(new Date(next.validTo).getTime()).toBeGreaterThan(new Date(firstCert.validTo).getTime());
    expect(secretText(renewed, "ca.crt")).toBe(secretText(first, "ca.crt"));
    expect(secretText(renewed, "previous.crt")).toContain(firstPem.trim());
    // The root Secret is never written again.
    const rootNow = await caSecret("meshid-root-ca");
    expect(rootNow.metadata?.resourceVersion).toBe(root.metadata?.resourceVersion);

    // Every leaf moves off the first intermediate, and chains to the same root.
    await eventually(
      async () => {
        const list = await managedSecrets(ns);
        if (list.length < 4) throw new Error(`${list.length}/4 Secrets`);
        const stale = list.filter(
          (s) => fingerprint(splitPem(secretText(s, "tls.crt"))[1] ?? "") === fingerprint(firstPem),
        );
        if (stale.length > 0)
          throw new Error(`${stale.length} leaves still on the first intermediate`);
        for (const s of list) {
          expect(secretText(s, "ca.crt")).toBe(rootPem);
          opensslVerify(s);
        }
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );

    // The MeshCA shows the successor, the replaced intermediate, the unchanged root, and the
    // successor's leaves in its inventory.
    await eventually(
      async () => {
        const out = await kubectl(["get", "meshca", "meshid", "-o", "json"]);
        const status = (JSON.parse(out) as { status?: MeshCAStatus }).status;
        const current = fingerprint(secretText(await caSecret("meshid-ca"), "tls.crt"));
        expect(status?.intermediate?.fingerprint).toBe(current);
        expect(status?.previousIntermediates?.map((p) => p.fingerprint)).toContain(
          fingerprint(firstPem),
        );
        expect(status?.roots?.map((r) => r.fingerprint)).toEqual([fingerprint(rootPem)]);
        const onCurrent = status?.issuers?.find((i) => i.fingerprint === current)?.leaves ?? 0;
        expect(onCurrent).toBeGreaterThanOrEqual(4);
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    const table = await kubectl(["get", "meshca"]);
    expect(table).toMatch(
      /NAME\s+PHASE\s+EXPIRES\s+RENEWS\s+LEAVES\s+CURRENT\s+PREVIOUS\s+ROTATION\s+AGE/,
    );
    expect(table).toMatch(/^meshid\s+(Active|Draining)\s/m);

    expect(op.child.exitCode).toBeNull();
    expect(
      op.logs().filter((l) => l.message === "Renewed the intermediate CA").length,
    ).toBeGreaterThanOrEqual(1);
    const events = (await core.listNamespacedEvent(op.namespace)).body;
    expect(events.items.map((e) => e.reason)).toContain("CAIntermediateRenewed");
    expect(
      op.logs().filter((l) => l.message === "Issued certificate" && l.reason === "ca-change")
        .length,
    ).toBeGreaterThanOrEqual(1);
  });
});
