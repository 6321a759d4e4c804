/**
 * Stored state is verified, not trusted. Someone with write access to Secrets or ConfigMaps
 * (a compromised controller, a careless admin) forges a pod's certificate, edits its annotations,
 * deletes or edits a trust bundle, or deletes half of the bootstrap CA. meshid must re-issue what
 * it cannot verify, restore what it publishes, and refuse to sign over half a CA, within seconds.
 */
import type * as k8s from "@kubernetes/client-node";
import { bootstrapCa, generateKey, issueLeaf, loadSigningCa } from "../../operator/pki";
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPod,
  getIdentity,
  opensslVerify,
  readyCondition,
  secretText,
  splitPem,
} from "../support/meshid";

jest.setTimeout(180_000);

const kc = testKubeConfig();
let op: OperatorProcess;
let ns: string;
const podName = "web-0";
const secretName = "meshid-web-0";

beforeAll(async () => {
  op = await startOperator({ args: ["--ca-recheck-period=2s"] });
  await waitReady(op);
  ns = await createNamespace(kc, "stored");
  await createIdentity(ns, "web", { selector: { matchLabels: { app: "web" } } });
  await createPod(ns, podName, { app: "web" }, "web");
  await eventually(() => core.readNamespacedSecret(secretName, ns), { timeoutMs: 60_000 });
});

afterAll(async () => {
  await op?.stop();
});

const own = () => `spiffe://cluster.local/ns/${ns}/sa/web`;

async function readSecret(name = secretName, namespace = ns): Promise<k8s.V1Secret> {
  return (await core.readNamespacedSecret(name, namespace)).body;
}

/** replaceSecret writes `secret` back as an admin would, keeping its metadata. */
async function replaceSecret(secret: k8s.V1Secret): Promise<void> {
  await core.replaceNamespacedSecret(secret.metadata!.name!, ns, secret);
}

/** reissued waits until the pod's Secret holds a new, valid certificate for its own identity. */
async function reissued(oldSerial: string | undefined): Promise<k8s.V1Secret> {
  return eventually(
    async () => {
      const s = await readSecret();
      const serial = s.metadata?.annotations?.["meshid.dev/serial"];
      if (serial === oldSerial) throw new Error("not re-issued yet");
      const text = opensslVerify(s);
      expect(text).toContain(`URI:${own()}`);
      const renewAt = Date.parse(s.metadata!.annotations!["meshid.dev/renew-at"]!);
      expect(renewAt).toBeLessThan(Date.parse(s.metadata!.annotations!["meshid.dev/not-after"]!));
      return s;
    },
    { timeoutMs: 20_000 },
  );
}

async function eventReasons(name: string): Promise<string[]> {
  const { body } = await core.listNamespacedEvent(ns);
  return body.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason ?? "");
}

describe("a pod's Secret written by someone else", () => {
  it("is re-issued when it holds a leaf of another CA claiming another SPIFFE ID behind the real intermediate", async () => {
    const now = new Date();
    const other = await bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now,
    });
    const otherCa = await loadSigningCa({
      certPem: other.intermediate.certPem,
      keyPem: other.intermediate.keyPem,
      rootsPem: other.root.certPem,
      now,
    });
    const key = await generateKey({ algorithm: "ECDSA", size: 256 });
    const forged = await issueLeaf(otherCa, {
      publicKeyPem: key.publicKeyPem,
      spiffeId: "spiffe://cluster.local/ns/kube-system/sa/admin",
      dnsNames: [],
      ipAddresses: [],
      usages: ["server auth", "client auth"],
      durationMs: 24 * 3_600_000,
      now,
    });
    const s = await readSecret();
    const [, realIntermediate] = splitPem(secretText(s, "tls.crt"));
    const [forgedLeaf] = splitPem(forged.certChainPem);
    s.data = {
      ...s.data,
      "tls.crt": Buffer.from(`${forgedLeaf}${realIntermediate}`).toString("base64"),
      "tls.key": Buffer.from(key.privateKeyPem).toString("base64"),
    };
    await replaceSecret(s);
    await reissued(s.metadata?.annotations?.["meshid.dev/serial"]);
    await eventually(async () =>
      expect(await eventReasons(podName)).toContain("InvalidCertificate"),
    );
  });

  it.each([
    [
      "its renew-at annotation is moved to 2099",
      { "meshid.dev/renew-at": "2099-01-01T00:00:00.000Z" },
    ],
    [
      "its pod-uid annotation names another pod",
      { "meshid.dev/pod-uid": "0b7c2b1e-0000-4000-8000-000000000000" },
    ],
    ["its renew-at annotation is garbage", { "meshid.dev/renew-at": "soon" }],
  ])("is re-issued when %s", async (_n, changed) => {
    const s = await readSecret();
    s.metadata!.annotations = { ...s.metadata!.annotations, ...changed };
    await replaceSecret(s);
    await reissued(s.metadata?.annotations?.["meshid.dev/serial"]);
  });

  it("is re-created when deleted", async () => {
    const s = await readSecret();
    await core.deleteNamespacedSecret(secretName, ns);
    await reissued(s.metadata?.annotations?.["meshid.dev/serial"]);
  });
});

describe("the trust bundle ConfigMap", () => {
  const bundle = async () => (await core.readNamespacedConfigMap("meshid-ca-bundle", ns)).body;
  const restored = () =>
    eventually(
      async () => {
        const cm = await bundle();
        expect(cm.data?.["ca.crt"]).toBe(secretText(await readSecret(), "ca.crt"));
        expect(cm.metadata?.labels?.["meshid.dev/trust-bundle"]).toBe("true");
      },
      { timeoutMs: 15_000 },
    );

  it("is restored within seconds after it is deleted", async () => {
    await restored();
    await core.deleteNamespacedConfigMap("meshid-ca-bundle", ns);
    await restored();
  });

  it("is restored within seconds after its data and labels are edited", async () => {
    const cm = await bundle();
    cm.data = { "ca.crt": "-----BEGIN CERTIFICATE-----\nnot ours\n-----END CERTIFICATE-----\n" };
    cm.metadata!.labels = {};
    await core.replaceNamespacedConfigMap("meshid-ca-bundle", ns, cm);
    await restored();
  });
});

describe("half a bootstrap CA", () => {
  const copy = (s: k8s.V1Secret): k8s.V1Secret => ({
    metadata: { name: s.metadata!.name!, labels: s.metadata!.labels ?? {} },
    type: s.type!,
    data: { ...s.data },
  });

  async function notReady(reason: string): Promise<void> {
    await eventually(
      async () => {
        const cond = readyCondition(await getIdentity(ns, "web"));
        expect(cond).toMatchObject({ status: "False", reason: "CANotReady" });
        expect(cond?.message).toContain(`${reason}: `);
        expect(await op.readyz()).toBe(503);
        const { body } = await core.listNamespacedEvent(op.namespace);
        expect(
          body.items.some((e) => e.reason === "CANotReady" && e.message?.startsWith(`${reason}:`)),
        ).toBe(true);
      },
      { timeoutMs: 90_000 },
    );
  }

  async function ready(): Promise<void> {
    await eventually(
      async () => {
        expect(readyCondition(await getIdentity(ns, "web"))?.status).toBe("True");
        expect(await op.readyz()).toBe(200);
      },
      { timeoutMs: 30_000 },
    );
  }

  it("is reported, never re-bootstrapped, and recovers from a restored backup without re-issuing a pod", async () => {
    await ready();
    const intermediate = copy(await readSecret("meshid-ca", op.namespace));
    const root = await readSecret("meshid-root-ca", op.namespace);
    const serial = (await readSecret()).metadata?.annotations?.["meshid.dev/serial"];

    await core.deleteNamespacedSecret("meshid-ca", op.namespace);
    await notReady("CASecretMissing");
    await expect(readSecret("meshid-ca", op.namespace)).rejects.toMatchObject({ statusCode: 404 });
    expect((await readSecret("meshid-root-ca", op.namespace)).metadata?.resourceVersion).toBe(
      root.metadata?.resourceVersion,
    );
    await core.createNamespacedSecret(op.namespace, intermediate);
    await ready();

    await core.deleteNamespacedSecret("meshid-root-ca", op.namespace);
    await notReady("RootCASecretMissing");
    await core.createNamespacedSecret(op.namespace, copy(root));
    await ready();

    const stranger = await bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now: new Date(),
    });
    const swapped = await readSecret("meshid-root-ca", op.namespace);
    swapped.data = {
      ...swapped.data,
      "tls.crt": Buffer.from(stranger.root.certPem).toString("base64"),
      "tls.key": Buffer.from(stranger.root.keyPem).toString("base64"),
      "ca.crt": Buffer.from(stranger.root.certPem).toString("base64"),
    };
    await core.replaceNamespacedSecret("meshid-root-ca", op.namespace, swapped);
    await notReady("CASecretMismatch");
    const back = await readSecret("meshid-root-ca", op.namespace);
    back.data = { ...root.data };
    await core.replaceNamespacedSecret("meshid-root-ca", op.namespace, back);
    await ready();

    expect((await readSecret()).metadata?.annotations?.["meshid.dev/serial"]).toBe(serial);
    expect(op.child.exitCode).toBeNull();
  });
});
