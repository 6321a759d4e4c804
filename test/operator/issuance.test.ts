/**
 * The operator process against the real API server: per-pod issuance, the identity rules,
 * re-issue on spec change, clean-up, and the checks only the operator can make.
 */
import { createNamespace, eventually, kubectl, statusCode, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPod,
  deleteIdentity,
  getIdentity,
  managedSecrets,
  opensslVerify,
  patchIdentitySpec,
  readyCondition,
  secretText,
} from "../support/meshid";
import { inspectCertificate } from "../../operator/pki";

jest.setTimeout(120_000);

const kc = testKubeConfig();
let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator();
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

const serial = (s: Parameters<typeof secretText>[0]) =>
  inspectCertificate(secretText(s, "tls.crt")).serialHex;

describe("per-pod issuance", () => {
  let ns: string;
  const labels = { app: "payments" };

  beforeAll(async () => {
    ns = await createNamespace(kc, "issue");
    await createIdentity(ns, "payments", {
      selector: { matchLabels: labels },
      serviceAccountName: "payments",
      dnsNames: [`payments.${ns}.svc`, `$(POD_NAME).payments.${ns}.svc.cluster.local`],
    });
    for (const name of ["pay-0", "pay-1", "pay-2"]) await createPod(ns, name, labels, "payments");
    await createPod(ns, "intruder", labels, "other");
  });

  it("gives each of three selected pods its own Secret whose chain openssl accepts", async () => {
    const secrets = await eventually(
      async () => {
        const list = await managedSecrets(ns);
        if (list.length < 3) throw new Error(`${list.length}/3 Secrets`);
        return list;
      },
      { timeoutMs: 60_000 },
    );
    expect(secrets.map((s) => s.metadata?.name).sort()).toEqual([
      "meshid-pay-0",
      "meshid-pay-1",
      "meshid-pay-2",
    ]);
    for (const s of secrets) {
      const pod = s.metadata!.ownerReferences![0]!.name;
      const text = opensslVerify(s);
      expect(text).toContain(`URI:spiffe://cluster.local/ns/${ns}/sa/payments`);
      expect(text).toContain(`DNS:payments.${ns}.svc`);
      expect(text).toContain(`DNS:${pod}.payments.${ns}.svc.cluster.local`);
      expect(secretText(s, "tls.key")).toContain("BEGIN PRIVATE KEY");
    }
  });

  it("gives nothing to a pod running as another service account", async () => {
    await expect(core.readNamespacedSecret("meshid-intruder", ns)).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("shows READY True, SELECTED 3, ISSUED 3 in kubectl get mid", async () => {
    await eventually(async () => {
      const out = await kubectl(["get", "mid", "-n", ns, "--no-headers"]);
      expect(out).toMatch(/^payments\s+True\s+3\s+3\s+\S+/);
    });
    const mi = await getIdentity(ns, "payments");
    expect(readyCondition(mi)).toMatchObject({ status: "True" });
    expect(mi.status?.observedGeneration).toBe(mi.metadata.generation);
    expect(mi.status?.nextRenewalTime).toBeDefined();
    await eventually(async () => {
      const { body } = await core.listNamespacedEvent(ns);
      const issued = body.items.filter(
        (e) => e.involvedObject.kind === "MeshIdentity" && e.reason === "Issued",
      );
      expect(issued.map((e) => e.message).join("; ")).toMatch(
        /Issued 3 certificates \(3 new\)|Issued [12] certificates?/,
      );
    });
    const bundle = await core.readNamespacedConfigMap("meshid-ca-bundle", ns);
    expect(bundle.body.data?.["ca.crt"]).toContain("BEGIN CERTIFICATE");
  });

  it("re-issues all three when spec.dnsNames changes", async () => {
    const before = new Map((await managedSecrets(ns)).map((s) => [s.metadata!.name!, serial(s)]));
    await patchIdentitySpec(ns, "payments", { dnsNames: [`api.${ns}.svc`] });
    await eventually(
      async () => {
        const list = await managedSecrets(ns);
        expect(list).toHaveLength(3);
        for (const s of list) {
          expect(serial(s)).not.toBe(before.get(s.metadata!.name!));
          expect(inspectCertificate(secretText(s, "tls.crt")).dnsNames).toEqual([`api.${ns}.svc`]);
        }
      },
      { timeoutMs: 60_000 },
    );
  });

  it("deletes the Secret of a deleted pod", async () => {
    await core.deleteNamespacedPod("pay-2", ns, undefined, undefined, 0);
    await eventually(async () => {
      const err = await core.readNamespacedSecret("meshid-pay-2", ns).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(statusCode(err)).toBe(404);
    });
  });

  it("deletes every Secret of a deleted MeshIdentity", async () => {
    await deleteIdentity(ns, "payments");
    await eventually(async () => expect(await managedSecrets(ns)).toHaveLength(0));
  });
});

describe("identity boundaries", () => {
  it("gives nothing to a matching pod of another namespace", async () => {
    const a = await createNamespace(kc, "bound-a");
    const b = await createNamespace(kc, "bound-b");
    await createIdentity(a, "web", { selector: { matchLabels: { app: "web" } } });
    await createPod(a, "web-a", { app: "web" });
    await createPod(b, "web-b", { app: "web" });
    await eventually(async () => expect(await managedSecrets(a)).toHaveLength(1), {
      timeoutMs: 60_000,
    });
    expect(await managedSecrets(b)).toHaveLength(0);
  });

  it("issues nothing for a DNS name of another namespace, and says why in status and an Event", async () => {
    const ns = await createNamespace(kc, "dns");
    await createIdentity(ns, "greedy", {
      selector: { matchLabels: { app: "greedy" } },
      dnsNames: ["bank.other-ns.svc"],
    });
    await createPod(ns, "greedy-0", { app: "greedy" });
    const mi = await eventually(async () => {
      const m = await getIdentity(ns, "greedy");
      expect(readyCondition(m)).toMatchObject({ status: "False", reason: "DNSNameNotAllowed" });
      return m;
    });
    expect(readyCondition(mi)?.message).toContain("bank.other-ns.svc");
    expect(await managedSecrets(ns)).toHaveLength(0);
    await eventually(async () => {
      const { body } = await core.listNamespacedEvent(ns);
      expect(body.items.map((e) => e.reason)).toContain("DNSNameNotAllowed");
    });
  });

  it("lets the older of two MeshIdentities selecting one pod issue, and reports Conflict on the other", async () => {
    const ns = await createNamespace(kc, "conflict");
    await createIdentity(ns, "first", { selector: { matchLabels: { app: "x" } } });
    await eventually(async () => expect((await getIdentity(ns, "first")).status).toBeDefined());
    await new Promise((r) => setTimeout(r, 1_100)); // creationTimestamp has one-second resolution
    await createIdentity(ns, "second", { selector: { matchLabels: { app: "x" } } });
    await createPod(ns, "x-0", { app: "x" });
    await eventually(async () => {
      expect(readyCondition(await getIdentity(ns, "second"))).toMatchObject({
        status: "False",
        reason: "Conflict",
      });
      const list = await managedSecrets(ns);
      expect(list.map((s) => s.metadata?.labels?.["meshid.dev/identity"])).toEqual(["first"]);
    });
  });
});
