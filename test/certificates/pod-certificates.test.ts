/**
 * meshid as the signer of Kubernetes Pod Certificates (meshid.dev/identity) on the real API server,
 * with the operator holding only the generated RBAC role. PodCertificateRequests are made as
 * kubelet makes them: by a node identity (a client certificate `system:node:<name>` from the
 * control plane's client CA), authorized by the Node authorizer and admitted by NodeRestriction,
 * with a stub PKCS#10 request whose key stays with the test.
 */
import * as k8s from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { X509Certificate, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import { join } from "node:path";
import { signClientCertificate } from "../../hack/controlplane/certs";
import { operatorName, operatorNamespace, repoRoot } from "../../hack/gen-manifests";
import {
  createNamespace,
  eventually,
  kubectl,
  serviceAccountKubeconfig,
  testKubeConfig,
  testTmpDir,
  uniqueName,
} from "../support/kube";
import {
  core,
  createIdentity,
  getIdentity,
  managedSecrets,
  opensslVerifyChain,
  splitPem,
} from "../support/meshid";
import { stubCsr } from "../../operator/pki/testing/openssl";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";

jest.setTimeout(120_000);

const kc = testKubeConfig();
const dir = mkdtempSync(join(testTmpDir(), "meshid-pcr-"));
const nodeName = uniqueName("pcr-node");
const signer = "meshid.dev/identity";
let op: OperatorProcess;
let node: k8s.KubeConfig;
let nodeUid: string;
let ns: string;

interface Pcr {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
  status?: {
    conditions?: { type: string; reason: string; message: string }[];
    certificateChain?: string;
    notBefore?: string;
    notAfter?: string;
    beginRefreshAt?: string;
  };
}

/** request sends one JSON request with a kubeconfig's credentials. */
async function request<T>(user: k8s.KubeConfig, method: string, path: string, body?: unknown) {
  const opts: { headers?: Record<string, string> } & Record<string, unknown> = {};
  await user.applyToHTTPSOptions(opts);
  const res = await fetchWith(user.getCurrentCluster()!.server + path, method, opts, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return JSON.parse(res.text) as T;
}

function fetchWith(url: string, method: string, opts: Record<string, unknown>, body?: unknown) {
  // node:https, not fetch: the client certificate comes from the kubeconfig.
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      url,
      {
        ...opts,
        method,
        headers: { ...(opts.headers as object), "Content-Type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const p256 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/** createPod creates a pod bound to the test node (it stays Pending: no kubelet runs). */
async function createBoundPod(name: string, labels: Record<string, string>, sa: string) {
  const { body } = await core.createNamespacedPod(ns, {
    metadata: { name, labels },
    spec: {
      nodeName,
      serviceAccountName: sa,
      containers: [{ name: "app", image: "meshid-test-app" }],
    },
  });
  return body;
}

/** createPcr creates a request as the node (or as `as`), retrying while the Node authorizer's graph catches up. */
async function createPcr(
  pod: k8s.V1Pod,
  opts: {
    csr?: { csrB64: string };
    annotations?: Record<string, string>;
    podUid?: string;
    as?: k8s.KubeConfig;
    maxExpirationSeconds?: number;
    /** retryMs retries a refusal this long (the Node authorizer learns new pods asynchronously). */
    retryMs?: number;
  } = {},
): Promise<Pcr> {
  const sa = await core.readNamespacedServiceAccount(pod.spec!.serviceAccountName!, ns);
  const body = {
    apiVersion: "certificates.k8s.io/v1beta1",
    kind: "PodCertificateRequest",
    metadata: { generateName: `${pod.metadata!.name}-` },
    spec: {
      signerName: signer,
      podName: pod.metadata!.name,
      podUID: opts.podUid ?? pod.metadata!.uid,
      serviceAccountName: pod.spec!.serviceAccountName,
      serviceAccountUID: sa.body.metadata!.uid,
      nodeName,
      nodeUID: nodeUid,
      maxExpirationSeconds: opts.maxExpirationSeconds ?? 86_400,
      stubPKCS10Request: (opts.csr ?? (await stubCsr(p256))).csrB64,
      ...(opts.annotations ? { unverifiedUserAnnotations: opts.annotations } : {}),
    },
  };
  const path = `/apis/certificates.k8s.io/v1beta1/namespaces/${ns}/podcertificaterequests`;
  return eventually(() => request<Pcr>(opts.as ?? node, "POST", path, body), {
    timeoutMs: opts.retryMs ?? 15_000,
  });
}

/** answered waits for the request's terminal condition. */
function answered(pcr: Pcr): Promise<Pcr> {
  const path = `/apis/certificates.k8s.io/v1beta1/namespaces/${ns}/podcertificaterequests/${pcr.metadata.name}`;
  return eventually(
    async () => {
      const got = await request<Pcr>(kc, "GET", path);
      if (!got.status?.conditions?.length)
        throw new Error(`${pcr.metadata.name} is not answered yet`);
      return got;
    },
    { timeoutMs: 40_000 },
  );
}

beforeAll(async () => {
  // The node identity: what kubelet authenticates with, signed by the control plane's client CA.
  const pki = join(process.env.MESHID_TEST_CP_DIR!, "pki");
  const ca = {
    cert: readFileSync(join(pki, "client-ca.crt"), "utf8"),
    key: readFileSync(join(pki, "client-ca.key"), "utf8"),
  };
  const cred = await signClientCertificate(ca, `CN=system:node:${nodeName}, O=system:nodes`);
  const cluster = kc.getCurrentCluster()!;
  node = new k8s.KubeConfig();
  node.loadFromOptions({
    clusters: [
      { name: "c", server: cluster.server, caData: cluster.caData, caFile: cluster.caFile },
    ],
    users: [
      {
        name: "node",
        certData: Buffer.from(cred.cert).toString("base64"),
        keyData: Buffer.from(cred.key).toString("base64"),
      },
    ],
    contexts: [{ name: "c", cluster: "c", user: "node" }],
    currentContext: "c",
  });
  const created = await core.createNode({ metadata: { name: nodeName } });
  nodeUid = created.body.metadata!.uid!;

  // The operator holds nothing but the generated role's token.
  await kubectl(["apply", "-f", join(repoRoot, "manifests", "manager", "namespace.yaml")]);
  await kubectl(["apply", "-k", join(repoRoot, "manifests", "rbac")]);
  const kubeconfig = await serviceAccountKubeconfig(operatorNamespace, operatorName, dir);
  op = await startOperator({
    namespace: operatorNamespace,
    args: [`--kubeconfig=${kubeconfig}`, "--lease-name=pod-certificates-test"],
    env: { KUBECONFIG: kubeconfig },
  });
  await waitReady(op);

  ns = await createNamespace(kc, "pcr");
  for (const sa of ["payments", "other"])
    await core.createNamespacedServiceAccount(ns, { metadata: { name: sa } });
  await createIdentity(ns, "payments", {
    selector: { matchLabels: { app: "payments" } },
    dnsNames: [`payments.${ns}.svc`, `$(POD_NAME).payments.${ns}.svc.cluster.local`],
    delivery: "PodCertificate",
  });
});

afterAll(async () => {
  await op?.stop();
  await core.deleteNode(nodeName).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe("a PodCertificateRequest for a selected pod", () => {
  let pod: k8s.V1Pod;
  let done: Pcr;
  let key: { publicKeyPem: string; csrB64: string };

  beforeAll(async () => {
    pod = await createBoundPod("pay-0", { app: "payments" }, "payments");
    key = await stubCsr(p256);
    // The API's shortest lifetime: meshid must fit 1h exactly, notBefore backdated included.
    done = await answered(await createPcr(pod, { csr: key, maxExpirationSeconds: 3600 }));
  });

  it("is Issued, and the API server stored the status it validates", () => {
    expect(done.status?.conditions).toEqual([
      expect.objectContaining({ type: "Issued", status: "True", reason: "Issued" }),
    ]);
  });

  it("certifies the requested key with the pod's own SPIFFE ID and DNS names, and openssl verifies the chain", async () => {
    const [leafPem] = splitPem(done.status!.certificateChain!);
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.publicKey.export({ type: "spki", format: "pem" })).toBe(
      createPublicKey(key.publicKeyPem).export({ type: "spki", format: "pem" }),
    );
    expect(leaf.subjectAltName).toContain(`URI:spiffe://cluster.local/ns/${ns}/sa/payments`);
    expect(leaf.subjectAltName).toContain(`DNS:pay-0.payments.${ns}.svc.cluster.local`);
    const bundle = await eventually(async () => {
      const cm = await core.readNamespacedConfigMap("meshid-ca-bundle", ns);
      return cm.body.data!["ca.crt"]!;
    });
    const text = opensslVerifyChain(done.status!.certificateChain!, bundle);
    expect(text).toContain(`URI:spiffe://cluster.local/ns/${ns}/sa/payments`);
  });

  it("publishes the trust bundle as a ClusterTrustBundle linked to the signer, equal to the namespace's ConfigMap", async () => {
    const cm = await core.readNamespacedConfigMap("meshid-ca-bundle", ns);
    const ctb = await eventually(() =>
      request<{ spec: { signerName: string; trustBundle: string } }>(
        kc,
        "GET",
        "/apis/certificates.k8s.io/v1beta1/clustertrustbundles/meshid.dev:identity:primary-bundle",
      ),
    );
    expect(ctb.spec).toEqual({ signerName: signer, trustBundle: cm.body.data!["ca.crt"] });
  });

  it("has notBefore/notAfter of the leaf, a lifetime of 1h, and beginRefreshAt 10 minutes inside it", () => {
    const leaf = new X509Certificate(splitPem(done.status!.certificateChain!)[0]!);
    const nb = new Date(done.status!.notBefore!).getTime();
    const na = new Date(done.status!.notAfter!).getTime();
    const refresh = new Date(done.status!.beginRefreshAt!).getTime();
    expect(nb).toBe(new Date(leaf.validFrom).getTime());
    expect(na).toBe(new Date(leaf.validTo).getTime());
    expect(na - nb).toBe(3600_000);
    expect(refresh).toBeGreaterThanOrEqual(nb + 600_000);
    expect(refresh).toBeLessThanOrEqual(na - 600_000);
  });

  it("appears in kubectl meshid inventory with the certificate of its newest Issued request", async () => {
    const out = execFileSync("kubectl", ["meshid", "inventory", "-n", ns, "-o", "json"], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${join(repoRoot, "hack")}:${process.env.PATH}`,
        KUBECONFIG: process.env.MESHID_TEST_KUBECONFIG,
      },
    });
    const { items } = JSON.parse(out) as { items: Record<string, unknown>[] };
    const leaf = new X509Certificate(splitPem(done.status!.certificateChain!)[0]!);
    expect(items.find((e) => e.pod === "pay-0")).toMatchObject({
      delivery: "PodCertificate",
      // Created without the webhook here: it projects nothing (test/node checks a projected pod).
      mounted: false,
      request: done.metadata.name,
      meshIdentity: "payments",
      spiffeId: `spiffe://cluster.local/ns/${ns}/sa/payments`,
      serial: leaf.serialNumber.toLowerCase(),
      renewAt: done.status!.beginRefreshAt,
    });
  });

  it("creates no Secret for the pod, and counts it selected and issued in the MeshIdentity status", async () => {
    expect(await managedSecrets(ns)).toEqual([]);
    await eventually(
      async () => {
        const mi = await getIdentity(ns, "payments");
        expect(mi.status).toMatchObject({ selectedPods: 1, issuedPods: 1 });
      },
      { timeoutMs: 20_000 },
    );
  });
});

describe("requests meshid denies, with a reason a person can act on", () => {
  let selected: k8s.V1Pod;

  beforeAll(async () => {
    selected = await createBoundPod("pay-1", { app: "payments" }, "payments");
    await createIdentity(ns, "secret-delivered", {
      selector: { matchLabels: { app: "legacy" } },
    });
    await createIdentity(ns, "overlap", {
      selector: { matchLabels: { team: "shared" } },
      delivery: "PodCertificate",
    });
  });

  it.each<[string, () => Promise<Pcr>, string, RegExp]>([
    [
      "a pod no MeshIdentity selects",
      async () => createPcr(await createBoundPod("stray", { app: "stray" }, "other")),
      "NotSelected",
      /no MeshIdentity of namespace .* selects pod .*\/stray/,
    ],
    [
      "a pod whose MeshIdentity delivers by Secret",
      async () => createPcr(await createBoundPod("legacy", { app: "legacy" }, "other")),
      "DeliveryNotPodCertificate",
      /set spec.delivery: PodCertificate/,
    ],
    [
      "a pod two MeshIdentities select",
      async () =>
        createPcr(await createBoundPod("both", { app: "payments", team: "shared" }, "payments")),
      "Conflict",
      /selected by MeshIdentities overlap, payments|selected by MeshIdentities payments, overlap/,
    ],
    [
      "unknown unverifiedUserAnnotations (the reference signer's SPIFFE path override among them)",
      () =>
        createPcr(selected, {
          annotations: { "test.k8s.io/spiffe-path": "/ns/kube-system/sa/admin" },
        }),
      "InvalidUnverifiedUserAnnotations",
      /accepts no unverifiedUserAnnotations .* test.k8s.io\/spiffe-path/,
    ],
    [
      "an Ed25519 key when the MeshIdentity allows ECDSA P-256",
      async () => createPcr(selected, { csr: await stubCsr(["-algorithm", "ED25519"]) }),
      "UnsupportedKeyType",
      /key is ED25519, but MeshIdentity payments allows ECDSAP256 keys: set keyType: ECDSAP256/,
    ],
    [
      "a P-521 key",
      async () =>
        createPcr(selected, {
          csr: await stubCsr(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]),
        }),
      "UnsupportedKeyType",
      /allows ECDSAP256 keys/,
    ],
    [
      // NodeRestriction refuses a node this request; an administrator's request reaches meshid.
      "a pod UID that is not the pod's (made by an administrator)",
      () => createPcr(selected, { podUid: "00000000-0000-0000-0000-000000000000", as: kc }),
      "PodMismatch",
      /has UID .*, not the requested 00000000-0000-0000-0000-000000000000/,
    ],
  ])("denies %s", async (_name, make, reason, message) => {
    const done = await answered(await make());
    expect(done.status?.conditions).toHaveLength(1);
    const [condition] = done.status!.conditions!;
    expect(condition).toMatchObject({ type: "Denied", status: "True", reason });
    expect(condition!.message).toMatch(message);
    expect(done.status?.certificateChain).toBeUndefined();
  });

  it("is refused by NodeRestriction when a node asks for a pod UID that is not the pod's", async () => {
    await expect(
      createPcr(selected, { podUid: "00000000-0000-0000-0000-000000000000", retryMs: 0 }),
    ).rejects.toThrow(/which differs from running pod/);
  });
});
