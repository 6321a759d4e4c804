/**
 * Mutual TLS through an intermediate renewal and then a complete root rotation: 40 pods (control
 * plane only, so they stay Pending, but their Secrets are real) while a checker, every second,
 * makes pods handshake with each other using each pod's current Secret: its leaf and chain as its
 * certificate, its own ca.crt as the only trust. Not one handshake may fail. The rotation is
 * requested with `kubectl patch meshca` and goes through every phase; the operator is restarted
 * once it is Active or Draining and resumes from the API, and a rollback asked for then is
 * refused. Every leaf ends under the new root, the old root leaves every carrier (ca.crt, the
 * bundle ConfigMap, the webhook's caBundle, the CA Secret), and no second holds more `ca-change`
 * re-issues than --reissue-rate. Then a second rotation is requested and rolled back before Active.
 */
import { X509Certificate } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import type { MeshCAStatus, RootRotation } from "../../api/v1alpha1/meshca";
import { eventually, kubectl, testKubeConfig, uniqueName } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import { busiest, HandshakeChecker, issuingTimes, meshNamespace } from "../support/mtls";
import { core, managedSecrets, opensslVerifyChain, secretText, splitPem } from "../support/meshid";

jest.setTimeout(420_000);

const kc = testKubeConfig();
const admissionApi = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const pods = 40;
const rate = 5;
const operatorNamespace = uniqueName("meshid-system");
const webhookConfig = uniqueName("meshid-rotation-test");
const args = [
  "--ca-intermediate-validity=3m",
  "--ca-renew-fraction=0.25",
  "--ca-recheck-period=5s",
  `--reissue-rate=${rate}`,
  "--ca-rotation-soak=5s",
  `--webhook-config-name=${webhookConfig}`,
];
const operators: OperatorProcess[] = [];
let op: OperatorProcess;

async function start(extra: string[] = []): Promise<OperatorProcess> {
  const p = await startOperator({ namespace: operatorNamespace, args: [...args, ...extra] });
  operators.push(p);
  await waitReady(p);
  return p;
}

beforeAll(async () => {
  // The MeshCA is cluster-wide: start from none, so no earlier test's request is inherited.
  await kubectl(["delete", "meshca", "meshid", "--ignore-not-found"]);
  op = await start();
  // A webhook configuration meshid keeps the caBundle of; it selects no namespace.
  await admissionApi.createMutatingWebhookConfiguration({
    metadata: { name: webhookConfig },
    webhooks: [
      {
        name: "pods.meshid.dev",
        clientConfig: { url: `https://127.0.0.1:${op.webhookPort}/mutate-pods` },
        rules: [
          { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
        ],
        namespaceSelector: { matchLabels: { "meshid.dev/rotation-test": "none" } },
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        failurePolicy: "Ignore",
      },
    ],
  });
});

afterAll(async () => {
  for (const p of operators) await p.stop();
  await admissionApi.deleteMutatingWebhookConfiguration(webhookConfig).catch(() => undefined);
  await kubectl(["delete", "meshca", "meshid", "--ignore-not-found"]).catch(() => undefined);
});

const fingerprint = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
const fingerprints = (pem: string) => splitPem(pem).map(fingerprint).sort();
const signedBy = (pem: string, issuerPem: string) => {
  try {
    return new X509Certificate(pem).verify(new X509Certificate(issuerPem).publicKey);
  } catch {
    return false;
  }
};
const issuerOf = (s: k8s.V1Secret) => fingerprint(splitPem(secretText(s, "tls.crt"))[1] ?? "");

async function meshCa(): Promise<{ spec?: { rootRotation?: string }; status?: MeshCAStatus }> {
  return JSON.parse(await kubectl(["get", "meshca", "meshid", "-o", "json"])) as {
    status?: MeshCAStatus;
  };
}

async function rotation(): Promise<RootRotation | undefined> {
  return (await meshCa()).status?.rotation;
}

async function requestRotation(token: string | null): Promise<void> {
  const patch = JSON.stringify({ spec: { rootRotation: token } });
  await kubectl(["patch", "meshca", "meshid", "--type=merge", "-p", patch]);
}

async function caSecret(name: string): Promise<k8s.V1Secret | undefined> {
  try {
    return (await core.readNamespacedSecret(name, operatorNamespace)).body;
  } catch {
    return undefined;
  }
}

async function webhookBundle(): Promise<string> {
  const { body } = await admissionApi.readMutatingWebhookConfiguration(webhookConfig);
  const b64 = body.webhooks?.[0]?.clientConfig.caBundle ?? "";
  return Buffer.from(b64, "base64").toString("utf8");
}

async function bundleConfigMap(ns: string): Promise<string> {
  const { body } = await core.readNamespacedConfigMap("meshid-ca-bundle", ns);
  return body.data?.["ca.crt"] ?? "";
}

describe("a root rotation under mutual TLS", () => {
  let ns: string;
  let newRootPem = "";

  it("fails no handshake through a renewal and a rotation; the old root leaves every carrier", async () => {
    const firstPem = secretText((await caSecret("meshid-ca"))!, "tls.crt");
    const oldRootPem = secretText((await caSecret("meshid-root-ca"))!, "tls.crt");
    const oldRoot = fingerprint(oldRootPem);
    ns = await meshNamespace("mtls-rotate", pods);

    const checker = new HandshakeChecker();
    const phasesSeen: string[] = [];
    let renewed = false;
    let requested = false;
    let restarted = false;
    let refusalAsked = false;
    let sawBothRoots = false;
    let done = false;
    const deadline = Date.now() + 330_000;
    while (Date.now() < deadline) {
      const started = Date.now();
      const list = await checker.round(await managedSecrets(ns));
      const onFirst = list.filter((s) => issuerOf(s) === fingerprint(firstPem)).length;
      if (!renewed && list.length === pods && onFirst === 0) renewed = true;
      // The intermediate renewal has moved every leaf: now rotate the root.
      if (renewed && !requested) {
        await requestRotation("r1");
        requested = true;
      }
      const state = requested ? await rotation() : undefined;
      if (state && phasesSeen[phasesSeen.length - 1] !== state.phase) phasesSeen.push(state.phase);
      if (state?.phase === "Propagating" || state?.phase === "Active") {
        const both = list.every((s) => fingerprints(secretText(s, "ca.crt")).length === 2);
        if (both) sawBothRoots = true;
      }
      // Once Active, the operator is restarted: the rotation must resume from the API.
      if ((state?.phase === "Active" || state?.phase === "Draining") && !restarted) {
        restarted = true;
        await op.stop();
        op = await start();
      }
      // After the restart, asking for another token is refused, and the rotation goes on.
      if (
        restarted &&
        !refusalAsked &&
        (state?.phase === "Active" || state?.phase === "Draining")
      ) {
        refusalAsked = true;
        await requestRotation("r0");
      }
      if (state?.phase === "Retired") {
        newRootPem = secretText((await caSecret("meshid-root-ca"))!, "tls.crt");
        const newRoot = fingerprint(newRootPem);
        const settled =
          list.length === pods &&
          list.every(
            (s) =>
              fingerprints(secretText(s, "ca.crt")).join() === newRoot &&
              signedBy(splitPem(secretText(s, "tls.crt"))[1] ?? "", newRootPem),
          );
        if (settled) {
          if (done) break; // one more round after every carrier settled
          done = true;
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
    }

    expect(checker.failures).toEqual([]);
    expect(renewed).toBe(true);
    expect(restarted).toBe(true);
    expect(done).toBe(true);
    expect(checker.handshakes).toBeGreaterThanOrEqual(300);

    // Every phase was passed through, in order (a short one may be missed by the 1 s sampling,
    // the Events say it was entered).
    const events = (await core.listNamespacedEvent(operatorNamespace)).body.items
      .filter((e) => e.reason === "CARotationPhaseChanged")
      .map((e) => e.message ?? "");
    for (const phase of ["Prepared", "Propagating", "Active", "Draining", "Retired"])
      expect(events.some((m) => m.includes(`r1: `) && m.endsWith(`→ ${phase}`))).toBe(true);
    expect(phasesSeen.indexOf("Retired")).toBeGreaterThan(phasesSeen.indexOf("Draining"));
    expect(sawBothRoots).toBe(true);
    expect(refusalAsked).toBe(true);
    const warnings = (await core.listNamespacedEvent(operatorNamespace)).body.items.filter(
      (e) => e.reason === "CARotationRefused",
    );
    expect(warnings.map((e) => e.message).join()).toMatch(/cannot be rolled back/);

    // The old root left every carrier and the CA Secrets; it is kept only as a backup.
    const newRoot = fingerprint(newRootPem);
    expect(newRoot).not.toBe(oldRoot);
    const state = await rotation();
    // The refused token starts nothing after the rotation.
    expect(state).toMatchObject({ id: "r1", phase: "Retired", completed: "r1", refused: "r0" });
    expect(fingerprints(secretText((await caSecret("meshid-ca"))!, "ca.crt"))).toEqual([newRoot]);
    expect((await caSecret("meshid-ca"))!.data?.["previous.crt"]).toBeUndefined();
    await eventually(async () => {
      expect(fingerprints(await bundleConfigMap(ns))).toEqual([newRoot]);
      expect(fingerprints(await webhookBundle())).toEqual([newRoot]);
    });
    expect(await caSecret("meshid-ca-next")).toBeUndefined();
    expect(await caSecret("meshid-root-ca-next")).toBeUndefined();
    const backup = await caSecret(`meshid-root-ca-retired-${oldRoot.slice(0, 16)}`);
    expect(backup && fingerprint(secretText(backup, "tls.crt"))).toBe(oldRoot);
    for (const s of await managedSecrets(ns)) {
      // Verifies under the new root alone, and not under the old one.
      opensslVerifyChain(secretText(s, "tls.crt"), newRootPem);
      expect(() => opensslVerifyChain(secretText(s, "tls.crt"), oldRootPem)).toThrow();
    }

    // Paced: the ca-change re-issues of this namespace (renewal and rotation, both operator
    // processes), at the moment each was let through.
    const times = issuingTimes(
      operators.flatMap((p) => p.logs()),
      "ca-change",
      ns,
    );
    const windowOf = (ms: number) => busiest(times, ms);
    console.log(
      `${checker.handshakes} handshakes, ${checker.failures.length} failed; phases sampled ${phasesSeen.join(" → ")}; ` +
        `${times.length} ca-change re-issues; busiest second: ${windowOf(998)} (rate ${rate}/s)`,
    );
    // A renewal and a rotation each move every leaf once.
    expect(times.length).toBeGreaterThanOrEqual(pods * 2 - 5);
    expect(windowOf(998)).toBeLessThanOrEqual(rate);
  });

  it("rolls a second rotation back before Active: the next root leaves every carrier again", async () => {
    expect(newRootPem).not.toBe("");
    const root = fingerprint(newRootPem);
    // A long soak holds the rotation in Propagating; a restarted operator resumes it from the API.
    for (const p of operators) await p.stop();
    op = await start(["--ca-rotation-soak=1h"]);
    const previous = (await meshCa()).spec?.rootRotation ?? null;
    await requestRotation("r2");
    await eventually(
      async () => {
        expect((await rotation())?.phase).toBe("Propagating");
        for (const s of await managedSecrets(ns))
          expect(fingerprints(secretText(s, "ca.crt"))).toHaveLength(2);
        expect(fingerprints(await bundleConfigMap(ns))).toHaveLength(2);
      },
      { timeoutMs: 60_000 },
    );
    expect(await caSecret("meshid-ca-next")).toBeDefined();
    expect(await caSecret("meshid-root-ca-next")).toBeDefined();

    await requestRotation(previous); // back to what it was
    await eventually(
      async () => {
        expect(await rotation()).toMatchObject({ id: "r2", phase: "RolledBack", completed: "r1" });
        const events = (await core.listNamespacedEvent(operatorNamespace)).body.items;
        expect(events.some((e) => e.message?.endsWith("r2: Propagating → RolledBack"))).toBe(true);
        for (const s of await managedSecrets(ns))
          expect(fingerprints(secretText(s, "ca.crt"))).toEqual([root]);
        expect(fingerprints(await bundleConfigMap(ns))).toEqual([root]);
        expect(fingerprints(await webhookBundle())).toEqual([root]);
      },
      { timeoutMs: 60_000 },
    );
    expect(await caSecret("meshid-ca-next")).toBeUndefined();
    expect(await caSecret("meshid-root-ca-next")).toBeUndefined();
    expect(fingerprint(secretText((await caSecret("meshid-root-ca"))!, "tls.crt"))).toBe(root);
  });
});
