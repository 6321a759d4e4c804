/**
 * Nothing lost through kill -9, leader changes and a corrupt CA: the operator process against the
 * real API server, killed and restarted for real.
 */
import { X509Certificate } from "node:crypto";
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPod,
  createPods,
  getIdentity,
  managedSecrets,
  opensslVerify,
  readyCondition,
  secretText,
} from "../support/meshid";
import { inspectCertificate } from "../../operator/pki";

jest.setTimeout(240_000);

const kc = testKubeConfig();
const running: OperatorProcess[] = [];

async function operator(...args: Parameters<typeof startOperator>): Promise<OperatorProcess> {
  const op = await startOperator(...args);
  running.push(op);
  return op;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop("SIGKILL")));
});

function caFingerprint(caCertPem: string): string {
  return new X509Certificate(caCertPem).fingerprint256.replace(/:/g, "").toLowerCase();
}

const logged = (op: OperatorProcess, message: string) =>
  op.logs().filter((l) => l.message === message);

describe("kill -9 while issuing for 200 pods", () => {
  it("ends with exactly one valid Secret per pod, the same CA, and no re-issue of valid certificates", async () => {
    const ns = await createNamespace(kc, "kill");
    await createIdentity(ns, "fleet", { selector: { matchLabels: { app: "fleet" } } });
    await createPods(ns, "fleet", 200, { app: "fleet" });

    const first = await operator({ args: ["--concurrency=1"] });
    const atKill = await eventually(
      async () => {
        const list = await managedSecrets(ns);
        if (list.length < 10) throw new Error(`${list.length} Secrets so far`);
        return list;
      },
      { timeoutMs: 90_000, intervalMs: 50 },
    );
    await first.stop("SIGKILL");
    const caBefore = await core.readNamespacedSecret("meshid-ca", first.namespace);
    const survivors = await managedSecrets(ns);
    const serialsBefore = new Map(
      survivors.map((s) => [
        s.metadata!.name!,
        inspectCertificate(secretText(s, "tls.crt")).serialHex,
      ]),
    );
    expect(atKill.length).toBeGreaterThan(0);
    expect(survivors.length).toBeLessThan(200);

    const second = await operator({ namespace: first.namespace });
    await waitReady(second);
    const all = await eventually(
      async () => {
        const list = await managedSecrets(ns);
        if (list.length < 200) throw new Error(`${list.length}/200 Secrets`);
        return list;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );

    const caAfter = await core.readNamespacedSecret("meshid-ca", first.namespace);
    expect(caAfter.body.metadata?.uid).toBe(caBefore.body.metadata?.uid);
    expect(caAfter.body.metadata?.resourceVersion).toBe(caBefore.body.metadata?.resourceVersion);
    const fingerprint = caFingerprint(secretText(caAfter.body, "tls.crt"));

    const perPod = new Map<string, number>();
    for (const s of all) {
      const owner = s.metadata!.ownerReferences![0]!.name;
      perPod.set(owner, (perPod.get(owner) ?? 0) + 1);
      const info = inspectCertificate(secretText(s, "tls.crt"));
      expect(info.issuerFingerprint).toBe(fingerprint);
      expect(info.notAfter.getTime()).toBeGreaterThan(Date.now());
    }
    expect(perPod.size).toBe(200);
    expect([...perPod.values()].every((n) => n === 1)).toBe(true);
    for (const s of all.slice(0, 3)) opensslVerify(s);

    for (const [name, serial] of serialsBefore) {
      const now = all.find((s) => s.metadata?.name === name)!;
      expect(inspectCertificate(secretText(now, "tls.crt")).serialHex).toBe(serial);
    }
    // Operators reconcile every namespace: count only this test's pods.
    const issuedHere = logged(second, "Issued certificate").filter((l) => l.namespace === ns);
    const reasons = new Set(issuedHere.map((l) => l.reason));
    expect([...reasons]).toEqual(["new"]);
    expect(issuedHere).toHaveLength(200 - serialsBefore.size);
  });
});

describe("two operator processes", () => {
  it("lets exactly one reconcile, and the other take over within the lease duration with the same CA", async () => {
    const args = ["--lease-duration=6s", "--renew-deadline=4s", "--retry-period=1s"];
    const a = await operator({ args });
    const b = await operator({ namespace: a.namespace, args });
    await Promise.all([waitReady(a), waitReady(b)]);
    const leaders = await eventually(() => {
      const l = [a, b].filter((op) => logged(op, "Became leader; reconciling").length > 0);
      if (l.length === 0) throw new Error("no leader yet");
      return l;
    });
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    const follower = leader === a ? b : a;

    const ns = await createNamespace(kc, "leader");
    await createIdentity(ns, "svc", { selector: { matchLabels: { app: "svc" } } });
    await createPod(ns, "svc-0", { app: "svc" });
    const firstSecret = await eventually(() => core.readNamespacedSecret("meshid-svc-0", ns));
    expect(logged(follower, "Issued certificate")).toHaveLength(0);
    expect(logged(leader, "Issued certificate").length).toBeGreaterThan(0);

    await leader.stop("SIGKILL");
    const killedAt = Date.now();
    await eventually(() => expect(logged(follower, "Became leader; reconciling")).toHaveLength(1), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const takeoverMs = Date.now() - killedAt;
    // The lease is 6 s; the follower notices at its next retry (1 s).
    expect(takeoverMs).toBeLessThan(6_000 + 1_000 + 1_500);

    await createPod(ns, "svc-1", { app: "svc" });
    const secondSecret = await eventually(() => core.readNamespacedSecret("meshid-svc-1", ns));
    const issuer = (s: typeof firstSecret.body) =>
      inspectCertificate(secretText(s, "tls.crt")).issuerFingerprint;
    expect(issuer(secondSecret.body)).toBe(issuer(firstSecret.body));
  });
});

describe("a corrupt CA Secret", () => {
  it("is reported and left as it was, and nothing is issued", async () => {
    const opNs = await createNamespace(kc, "meshid-corrupt");
    const corrupt = {
      "tls.crt": Buffer.from("not a certificate").toString("base64"),
      "tls.key": Buffer.from("junk").toString("base64"),
    };
    await core.createNamespacedSecret(opNs, {
      metadata: { name: "meshid-ca" },
      type: "Opaque",
      data: corrupt,
    });
    const before = await core.readNamespacedSecret("meshid-ca", opNs);

    const ns = await createNamespace(kc, "ca-broken");
    await createIdentity(ns, "app", { selector: { matchLabels: { app: "a" } } });
    await createPod(ns, "a-0", { app: "a" });
    const op = await operator({ namespace: opNs });

    await eventually(
      async () => {
        const mi = await getIdentity(ns, "app");
        expect(readyCondition(mi)).toMatchObject({ status: "False", reason: "CANotReady" });
        expect(readyCondition(mi)?.message).toMatch(/ca\.crt|tls\.crt|CA/);
      },
      { timeoutMs: 60_000 },
    );
    expect(await op.readyz()).toBe(503);
    expect(
      op
        .logs()
        .some(
          (l) =>
            l.level === "error" &&
            l.message === "CA not ready; nothing will be issued until it is fixed",
        ),
    ).toBe(true);
    await eventually(async () => {
      const { body } = await core.listNamespacedEvent(opNs);
      expect(body.items.map((e) => e.reason)).toContain("CANotReady");
    });
    expect(await managedSecrets(ns)).toHaveLength(0);

    const after = await core.readNamespacedSecret("meshid-ca", opNs);
    expect(after.body.metadata?.resourceVersion).toBe(before.body.metadata?.resourceVersion);
    expect(after.body.data).toEqual(corrupt);
    await expect(core.readNamespacedSecret("meshid-root-ca", opNs)).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
