import type { CoreV1Event, V1Pod, V1Secret } from "@kubernetes/client-node";
import { newTestCa } from "../pki/testing/fixtures";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { generateKey, inspectCertificate, issueLeaf, loadSigningCa, type SigningCa } from "../pki";
import type { EventPort, SecretPort } from "../kube/client";
import { ApiError } from "../kube/errors";
import { FakeClock } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { annotations, labels } from "../policy/naming";
import { createLogger } from "../logger";
import type { CaStatus } from "./ca-manager";
import { ExistingCache } from "./existing";
import { FailureLog } from "./failure-log";
import { PodController } from "./pod-controller";
import { podsByUid, secretsByPod } from "./cache";
import { IssuanceTally } from "./issuance-tally";
import { slimSecret } from "../kube/objects";
import type { Source } from "../kube/manager";

/** slimView shows the Secrets as the operator's informer caches them: without tls.crt or tls.key. */
function slimView(whole: MemoryCache<V1Secret>): Source<V1Secret> {
  return {
    get: (key) => {
      const s = whole.get(key);
      return s && slimSecret(s);
    },
    list: (ns) => whole.list(ns).map(slimSecret),
    byIndex: (name, value) => whole.byIndex(name, value).map(slimSecret),
    on: (handler) => whole.on(handler),
  };
}

/** FakeSecrets is a narrow in-memory SecretPort + EventPort that feeds the secret cache. */
class FakeKube implements SecretPort, EventPort {
  writes: string[] = [];
  events: CoreV1Event[] = [];
  reads = 0;
  private rv = 1;
  constructor(readonly cache: MemoryCache<V1Secret>) {}
  async getSecret(ns: string, name: string) {
    this.reads++;
    return this.cache.get(`${ns}/${name}`);
  }
  async createSecret(ns: string, s: V1Secret) {
    if (this.cache.get(`${ns}/${s.metadata!.name}`))
      throw new ApiError(409, "AlreadyExists", "exists");
    this.writes.push(`create ${s.metadata!.name}`);
    const stored = {
      ...s,
      metadata: { ...s.metadata, uid: `uid-${this.rv}`, resourceVersion: String(this.rv++) },
    };
    this.cache.put(stored);
    return stored;
  }
  async replaceSecret(ns: string, s: V1Secret) {
    const cur = this.cache.get(`${ns}/${s.metadata!.name}`);
    if (cur?.metadata?.resourceVersion !== s.metadata?.resourceVersion)
      throw new ApiError(409, "Conflict", "stale");
    this.writes.push(`replace ${s.metadata!.name}`);
    const stored = {
      ...s,
      metadata: { ...s.metadata, uid: cur!.metadata!.uid, resourceVersion: String(this.rv++) },
    };
    this.cache.put(stored);
    return stored;
  }
  async deleteSecret(ns: string, name: string) {
    this.writes.push(`delete ${name}`);
    this.cache.delete(`${ns}/${name}`);
  }
  async createEvent(_ns: string, e: CoreV1Event) {
    this.events.push(e);
  }
}

const pod = (name: string, extra: Partial<V1Pod["metadata"]> = {}, sa = "payments"): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop", uid: `pod-${name}`, labels: { app: "pay" }, ...extra },
  spec: { serviceAccountName: sa, containers: [{ name: "c", image: "i" }] },
  status: { phase: "Running", podIP: "10.1.0.7" },
});

const identity = (spec: Partial<MeshIdentity["spec"]> = {}): MeshIdentity => ({
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: {
    name: "payments",
    namespace: "shop",
    generation: 1,
    uid: "mi-1",
    creationTimestamp: new Date("2026-01-01T00:00:00Z"),
  },
  spec: {
    selector: { matchLabels: { app: "pay" } },
    dnsNames: ["$(POD_NAME).payments.shop.svc"],
    duration: "1h",
    renewBefore: "20m",
    ...spec,
  },
});

let signingCa: SigningCa;
let otherCa: SigningCa;
/** trustingBoth signs as signingCa and trusts otherCa's root too: a CA change under overlap. */
let trustingBoth: SigningCa;
beforeAll(async () => {
  const now = new Date("2026-11-28T12:00:00Z");
  const other = await newTestCa({ now });
  otherCa = other.ca;
  const mine = await newTestCa({ now });
  signingCa = mine.ca;
  trustingBoth = await loadSigningCa({
    ...mine.boot.intermediate,
    rootsPem: mine.boot.root.certPem + other.boot.root.certPem,
    now,
  });
});

function setup(
  opts: {
    ca?: CaStatus | (() => CaStatus);
    identities?: MeshIdentity[];
    pods?: V1Pod[];
    random?: number;
    reissueRate?: number;
    /** slim: the reconcile sees Secrets as the informer caches them (slimSecret). */
    slim?: boolean;
    existing?: ExistingCache;
  } = {},
) {
  const clock = new FakeClock();
  const secrets = new MemoryCache<V1Secret>([], [secretsByPod]);
  const kube = new FakeKube(secrets);
  const pods = new MemoryCache<V1Pod>(opts.pods ?? [pod("p1")], [podsByUid]);
  const identities = new MemoryCache<MeshIdentity>(opts.identities ?? [identity()]);
  const tally = new IssuanceTally();
  const controller = new PodController({
    pods,
    identities,
    secrets: opts.slim ? slimView(secrets) : secrets,
    kube,
    ca: () =>
      typeof opts.ca === "function" ? opts.ca() : (opts.ca ?? { ready: true, ca: signingCa }),
    clock,
    random: () => opts.random ?? 0.5,
    logger: createLogger("error"),
    config: {
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      allowedDnsSuffixes: [],
      defaultDurationMs: 24 * 3_600_000,
      concurrency: 4,
      reissueRate: opts.reissueRate ?? 20,
    },
    existing: opts.existing ?? new ExistingCache(),
    failures: new FailureLog(),
    tally,
  });
  return { clock, secrets, kube, pods, identities, controller, tally };
}

const cert = (s: V1Secret | undefined) =>
  inspectCertificate(Buffer.from(s!.data!["tls.crt"]!, "base64").toString());

describe("PodController.reconcile", () => {
  it("issues a Secret owned by the pod, with its own SPIFFE ID and templated DNS names, then writes nothing on a second run", async () => {
    const { controller, kube, secrets, clock, tally } = setup();
    const first = await controller.reconcile("shop/p1");
    const s = secrets.get("shop/meshid-p1");
    expect(kube.writes).toEqual(["create meshid-p1"]);
    expect(s?.type).toBe("kubernetes.io/tls");
    expect(s?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "Pod",
      name: "p1",
      uid: "pod-p1",
    });
    expect(s?.metadata?.labels).toMatchObject({
      [labels.managed]: "true",
      [labels.identity]: "payments",
      [labels.pod]: "p1",
    });
    const info = cert(s);
    expect(info.uris).toEqual(["spiffe://cluster.local/ns/shop/sa/payments"]);
    expect(info.dnsNames).toEqual(["p1.payments.shop.svc"]);
    const renewAt = new Date(s!.metadata!.annotations![annotations.renewAt]!);
    expect(first.requeueAfterMs).toBe(renewAt.getTime() - clock.now().getTime());
    // One write per issuance: the MeshIdentity's recount reports issuances in one Event.
    expect(kube.events).toEqual([]);
    expect(tally.drain("shop/payments")).toBe("Issued 1 certificate (1 new)");

    const second = await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1"]);
    expect(second.requeueAfterMs).toBe(first.requeueAfterMs);
  });

  it("writes no Secret for a pod of a MeshIdentity with PodCertificate delivery, and deletes the one it had", async () => {
    const { controller, kube, identities } = setup();
    await controller.reconcile("shop/p1");
    identities.put({ ...identity({ delivery: "PodCertificate" }) });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "delete meshid-p1"]);
    await controller.reconcile("shop/p1");
    expect(kube.writes).toHaveLength(2);
  });

  it("keeps issuing into the Secret a pod admitted before PodCertificate delivery still mounts", async () => {
    const { controller, kube } = setup({
      identities: [identity({ delivery: "PodCertificate" })],
      pods: [
        {
          ...pod("p1"),
          spec: {
            serviceAccountName: "payments",
            containers: [{ name: "c", image: "i" }],
            volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-p1" } }],
          },
        },
      ],
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1"]);
  });

  it("uses the Secret of meshid's volume and never the annotation a pod's author can rewrite", async () => {
    const { controller, secrets } = setup({
      pods: [
        {
          ...pod("p1", { annotations: { [annotations.secret]: "meshid-victim" } }),
          spec: {
            serviceAccountName: "payments",
            containers: [{ name: "c", image: "i" }],
            volumes: [{ name: "meshid-identity", secret: { secretName: "meshid.p1-abcdefghij" } }],
          },
        },
      ],
    });
    await controller.reconcile("shop/p1");
    expect(secrets.get("shop/meshid.p1-abcdefghij")).toBeDefined();
    expect(secrets.get("shop/meshid-victim")).toBeUndefined();
  });

  it("never writes a Secret bound to another live pod, before or after the newcomer is deleted", async () => {
    const thief: V1Pod = {
      ...pod("thief", {}, "attacker"),
      spec: {
        serviceAccountName: "attacker",
        containers: [{ name: "c", image: "i" }],
        volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-p1" } }],
      },
    };
    const { controller, kube, secrets, pods } = setup({ pods: [pod("p1"), thief] });
    await controller.reconcile("shop/p1");
    const victim = secrets.get("shop/meshid-p1")!;

    const result = await controller.reconcile("shop/thief");
    expect(result.requeueAfterMs).toBe(60_000);
    await controller.reconcile("shop/thief"); // a retry reports nothing new
    expect(kube.writes).toEqual(["create meshid-p1"]);
    expect(kube.events.map((e) => [e.reason, e.involvedObject.name])).toEqual([
      ["SecretConflict", "thief"],
    ]);
    expect(secrets.get("shop/meshid-p1")).toBe(victim);

    pods.delete("shop/thief");
    await controller.reconcile("shop/thief");
    expect(kube.writes).toEqual(["create meshid-p1"]);
    expect(secrets.get("shop/meshid-p1")?.metadata?.ownerReferences?.[0]?.uid).toBe("pod-p1");
  });

  it("takes over the Secret of a pod of the same name that no longer exists", async () => {
    const { controller, kube, secrets, pods } = setup();
    await controller.reconcile("shop/p1");
    pods.put(pod("p1", { uid: "pod-p1-again" }));
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    const s = secrets.get("shop/meshid-p1")!;
    expect(s.metadata?.ownerReferences?.[0]?.uid).toBe("pod-p1-again");
    expect(s.metadata?.annotations?.[annotations.podUid]).toBe("pod-p1-again");
  });

  it("replaces a forged certificate claiming another SPIFFE ID, with reason invalid and an Event", async () => {
    const { controller, kube, secrets } = setup();
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p1"); // the echo of meshid's own write
    const s = secrets.get("shop/meshid-p1")!;
    const key = await generateKey({ algorithm: "ECDSA", size: 256 });
    const forged = await issueLeaf(otherCa, {
      publicKeyPem: key.publicKeyPem,
      spiffeId: "spiffe://cluster.local/ns/bank/sa/admin",
      dnsNames: [],
      ipAddresses: [],
      usages: ["server auth", "client auth"],
      durationMs: 3_600_000,
      now: new Date(),
    });
    // The leaf of another CA, followed by meshid's real intermediate, with meshid's annotations.
    const leafPem =
      forged.certChainPem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n";
    secrets.put({
      ...s,
      metadata: { ...s.metadata, resourceVersion: "99" },
      data: {
        ...s.data,
        "tls.crt": Buffer.from(leafPem + signingCa.chainPem).toString("base64"),
        "tls.key": Buffer.from(key.privateKeyPem).toString("base64"),
      },
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(cert(secrets.get("shop/meshid-p1")).uris).toEqual([
      "spiffe://cluster.local/ns/shop/sa/payments",
    ]);
    expect(kube.events.map((e) => e.reason)).toEqual(["InvalidCertificate"]);
  });

  it("judges an edit made right after its own write by the edit, never by what it wrote", async () => {
    const { controller, kube, secrets, pods } = setup({
      pods: [pod("p1"), pod("p2", {}, "admin")],
    });
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p2");
    const mine = secrets.get("shop/meshid-p1")!;
    // Another writer puts p2's valid pair into p1's Secret, keeping p1's owner and annotations.
    secrets.put({
      ...mine,
      metadata: { ...mine.metadata, resourceVersion: "900" },
      data: { ...secrets.get("shop/meshid-p2")!.data },
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "create meshid-p2", "replace meshid-p1"]);
    expect(cert(secrets.get("shop/meshid-p1")).uris).toEqual([
      "spiffe://cluster.local/ns/shop/sa/payments",
    ]);
    // Deleted and re-created by someone else: a new uid, judged from the cache too.
    const now = secrets.get("shop/meshid-p1")!;
    secrets.delete("shop/meshid-p1");
    secrets.put({
      ...now,
      metadata: { ...now.metadata, uid: "someone-else", resourceVersion: "901" },
      data: { ...now.data, "tls.crt": Buffer.from("forged").toString("base64") },
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes.at(-1)).toBe("replace meshid-p1");
    expect(pods.get("shop/p1")).toBeDefined();
  });

  it("replaces a Secret whose renewal time was moved past its expiry", async () => {
    const { controller, kube, secrets } = setup();
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p1"); // the echo of meshid's own write
    const s = secrets.get("shop/meshid-p1")!;
    secrets.put({
      ...s,
      metadata: {
        ...s.metadata,
        resourceVersion: "99",
        annotations: { ...s.metadata!.annotations, [annotations.renewAt]: "2099-01-01T00:00:00Z" },
      },
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(kube.events.map((e) => e.reason)).toEqual(["InvalidCertificate"]);
  });

  it("re-issues once when the pod asks for it with renew-requested-at", async () => {
    const { controller, kube, pods, clock } = setup();
    await controller.reconcile("shop/p1");
    await clock.advance(60_000);
    pods.put(
      pod("p1", { annotations: { [annotations.renewRequestedAt]: clock.now().toISOString() } }),
    );
    await clock.advance(1_000);
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
  });

  it("renews at the stored renewal time with a new serial and a new key", async () => {
    const { controller, kube, secrets, clock } = setup();
    const first = await controller.reconcile("shop/p1");
    const before = secrets.get("shop/meshid-p1")!;
    await clock.advance(first.requeueAfterMs!);
    await controller.reconcile("shop/p1");
    const after = secrets.get("shop/meshid-p1")!;
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(cert(after).serialHex).not.toBe(cert(before).serialHex);
    expect(after.data!["tls.key"]).not.toBe(before.data!["tls.key"]);
  });

  it("keeps the key across renewals under rotationPolicy Never", async () => {
    const { controller, secrets, clock } = setup({
      identities: [identity({ privateKey: { rotationPolicy: "Never" } })],
    });
    const first = await controller.reconcile("shop/p1");
    const before = secrets.get("shop/meshid-p1")!;
    await clock.advance(first.requeueAfterMs!);
    await controller.reconcile("shop/p1");
    const after = secrets.get("shop/meshid-p1")!;
    expect(cert(after).serialHex).not.toBe(cert(before).serialHex);
    expect(after.data!["tls.key"]).toBe(before.data!["tls.key"]);
  });

  it("re-issues when the DNS names of the MeshIdentity change", async () => {
    const { controller, kube, identities, secrets } = setup();
    await controller.reconcile("shop/p1");
    identities.put(identity({ dnsNames: ["payments.shop.svc"] }));
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(cert(secrets.get("shop/meshid-p1")).dnsNames).toEqual(["payments.shop.svc"]);
  });

  it("moves the certificates of a changed spec at their pods' slots, not at once", async () => {
    const pods = Array.from({ length: 10 }, (_, i) => pod(`p${i}`));
    const { controller, kube, identities, clock, secrets } = setup({ pods, reissueRate: 1 });
    await controller.reconcile("shop/p1");
    const changed = identity({ dnsNames: ["payments.shop.svc"] });
    changed.metadata.generation = 2;
    changed.status = { selectedPods: 10 };
    identities.put(changed);

    // Ten selected pods at one a second: p1 keeps its certificate until its slot of ten seconds.
    const waiting = await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1"]);
    expect(controller.pacedWaiting()).toEqual({ "ca-change": 0, "spec-change": 1, requested: 0 });
    expect(waiting.requeueAfterMs).toBeLessThan(10_000);

    await clock.advance(waiting.requeueAfterMs!);
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(controller.pacedWaiting()).toEqual({ "ca-change": 0, "spec-change": 0, requested: 0 });
    expect(cert(secrets.get("shop/meshid-p1")).dnsNames).toEqual(["payments.shop.svc"]);
  });

  it("keeps a spec change's window open through further edits, so a pod's turn is not pushed back", async () => {
    const pods = Array.from({ length: 10 }, (_, i) => pod(`p${i}`));
    const { controller, identities, clock } = setup({ pods, reissueRate: 1 });
    await controller.reconcile("shop/p1");
    const edit = (generation: number) => {
      const changed = identity({ dnsNames: [`v${generation}.payments.shop.svc`] });
      changed.metadata.generation = generation;
      changed.status = { selectedPods: 10 };
      identities.put(changed);
    };
    edit(2);
    const first = await controller.reconcile("shop/p1");
    const turn = clock.now().getTime() + first.requeueAfterMs!;
    await clock.advance(500);
    edit(3);
    const second = await controller.reconcile("shop/p1");
    expect(clock.now().getTime() + second.requeueAfterMs!).toBe(turn);
  });

  it("gives a pod of another service account nothing", async () => {
    const { controller, kube } = setup({
      identities: [identity({ serviceAccountName: "payments" })],
      pods: [pod("p1", {}, "other")],
    });
    expect(await controller.reconcile("shop/p1")).toEqual({});
    expect(kube.writes).toEqual([]);
  });

  it("issues nothing for a DNS name outside the pod's namespace", async () => {
    const { controller, kube } = setup({
      identities: [identity({ dnsNames: ["payments.bank.svc"] })],
    });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual([]);
  });

  it("deletes the Secret of a pod that is gone or no longer selected", async () => {
    const { controller, kube, pods } = setup();
    await controller.reconcile("shop/p1");
    pods.put({ ...pod("p1"), metadata: { ...pod("p1").metadata, labels: { app: "other" } } });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "delete meshid-p1"]);
  });

  it("signs nothing while the CA is not ready and looks again soon", async () => {
    const { controller, kube } = setup({
      ca: { ready: false, reason: "CaSecretCorrupt", message: "bad" },
    });
    expect((await controller.reconcile("shop/p1")).requeueAfterMs).toBeGreaterThan(0);
    expect(kube.writes).toEqual([]);
  });

  it("never overwrites a Secret of the same name that meshid does not manage", async () => {
    const { controller, kube, secrets } = setup();
    secrets.put({
      metadata: { name: "meshid-p1", namespace: "shop", uid: "x", resourceVersion: "1" },
      data: { a: "b" },
    });
    // The managed-Secret cache would not hold it; the fake's create sees the name taken.
    const foreign = secrets.get("shop/meshid-p1")!;
    secrets.delete("shop/meshid-p1");
    const realCreate = kube.createSecret.bind(kube);
    kube.createSecret = async (ns, s) => {
      if (s.metadata?.name === "meshid-p1") throw new ApiError(409, "AlreadyExists", "exists");
      return realCreate(ns, s);
    };
    kube.getSecret = async () => foreign;
    const result = await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual([]);
    expect(result.requeueAfterMs).toBe(60_000);
    expect(kube.events.map((e) => e.reason)).toEqual(["SecretConflict"]);
  });

  it("moves a leaf of the previous, still trusted CA at its pod's slot of the paced window, not at once", async () => {
    const pods = Array.from({ length: 10 }, (_, i) => pod(`p${i}`));
    let status: CaStatus = { ready: true, ca: otherCa };
    const { controller, kube, clock, secrets } = setup({ pods, reissueRate: 1, ca: () => status });
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1"]);

    status = { ready: true, ca: trustingBoth, since: clock.now() };
    const waiting = await controller.reconcile("shop/p1");
    // The new roots reach the pod at once (ca.crt only); its leaf waits for its slot.
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(Buffer.from(secrets.get("shop/meshid-p1")!.data!["ca.crt"]!, "base64").toString()).toBe(
      trustingBoth.trustBundlePem,
    );
    expect(controller.pacedWaiting()).toEqual({ "ca-change": 1, "spec-change": 0, requested: 0 });
    // Ten pods at one a second: a window of ten seconds, and p1 waits for its own slot in it.
    expect(waiting.requeueAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(waiting.requeueAfterMs).toBeLessThan(10_000);

    await clock.advance(waiting.requeueAfterMs!);
    await controller.reconcile("shop/p1");
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1", "replace meshid-p1"]);
    expect(controller.pacedWaiting()).toEqual({ "ca-change": 0, "spec-change": 0, requested: 0 });
    expect(cert(secrets.get("shop/meshid-p1")).issuerFingerprint).toBe(trustingBoth.fingerprint);
  });

  it("starts the paced re-issues of two pods due at once no closer than 1/rate apart", async () => {
    const pods = [pod("p1"), pod("p2")];
    let status: CaStatus = { ready: true, ca: otherCa };
    const { controller, kube, clock } = setup({ pods, reissueRate: 1, ca: () => status });
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p2");
    // A window opened two seconds ago holds both slots: both are due now.
    status = { ready: true, ca: trustingBoth, since: new Date(clock.now().getTime() - 2_000) };
    await controller.reconcile("shop/p1");
    const second = await controller.reconcile("shop/p2");
    // p1 is re-issued; p2 waits its turn, holding the new roots meanwhile (ca.crt only).
    expect(kube.writes).toEqual([
      "create meshid-p1",
      "create meshid-p2",
      "replace meshid-p1",
      "replace meshid-p2",
    ]);
    expect(second.requeueAfterMs).toBe(1_000);
    expect(controller.pacedWaiting()).toEqual({ "ca-change": 1, "spec-change": 0, requested: 0 });
    await clock.advance(1_000);
    await controller.reconcile("shop/p2");
    expect(kube.writes).toHaveLength(5);
  });

  it("rewrites only ca.crt when the trusted roots change, without re-issuing, once", async () => {
    let status: CaStatus = { ready: true, ca: signingCa };
    const { controller, kube, secrets } = setup({ ca: () => status });
    await controller.reconcile("shop/p1");
    const before = secrets.get("shop/meshid-p1")!;
    status = { ready: true, ca: trustingBoth };
    await controller.reconcile("shop/p1");
    const after = secrets.get("shop/meshid-p1")!;
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(after.data!["tls.crt"]).toBe(before.data!["tls.crt"]);
    expect(after.data!["tls.key"]).toBe(before.data!["tls.key"]);
    expect(Buffer.from(after.data!["ca.crt"]!, "base64").toString()).toBe(
      trustingBoth.trustBundlePem,
    );
    await controller.reconcile("shop/p1");
    expect(kube.writes).toHaveLength(2);
  });

  it("trusts its own write by the version the API server returned, and reads and verifies any other version of a Secret whose cached copy has no certificate", async () => {
    const { controller, kube, secrets } = setup({ slim: true });
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p1"); // the echo of meshid's own write: a lookup, no read
    expect(kube.reads).toBe(0);
    // A restart: nothing remembered; the Secret is read once, verified, and kept.
    const restarted = setup({ slim: true });
    restarted.secrets.put(secrets.get("shop/meshid-p1")!);
    await restarted.controller.reconcile("shop/p1");
    await restarted.controller.reconcile("shop/p1");
    expect(restarted.kube.reads).toBe(1);
    expect(restarted.kube.writes).toEqual([]);
  });

  it("replaces a certificate a tenant swapped in place although the cache holds no certificate to compare", async () => {
    const { controller, kube, secrets } = setup({ slim: true });
    await controller.reconcile("shop/p1");
    await controller.reconcile("shop/p1"); // the echo of meshid's own write
    const s = secrets.get("shop/meshid-p1")!;
    const key = await generateKey({ algorithm: "ECDSA", size: 256 });
    const forged = await issueLeaf(otherCa, {
      publicKeyPem: key.publicKeyPem,
      spiffeId: "spiffe://cluster.local/ns/shop/sa/payments",
      dnsNames: ["p1.payments.shop.svc"],
      ipAddresses: [],
      usages: ["server auth", "client auth"],
      durationMs: 3_600_000,
      now: new Date(),
    });
    // Same annotations, same pod, a leaf of a CA meshid does not trust: only a signature tells.
    secrets.put({
      ...s,
      metadata: { ...s.metadata, resourceVersion: "99" },
      data: {
        ...s.data,
        "tls.crt": Buffer.from(forged.certChainPem).toString("base64"),
        "tls.key": Buffer.from(key.privateKeyPem).toString("base64"),
      },
    });
    await controller.reconcile("shop/p1");
    expect(kube.reads).toBe(1);
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(kube.events.map((e) => e.reason)).toEqual(["InvalidCertificate"]);
  });

  it("rewrites ca.crt of a cached Secret from its whole copy, keeping tls.crt and tls.key", async () => {
    let status: CaStatus = { ready: true, ca: signingCa };
    const { controller, kube, secrets } = setup({ ca: () => status, slim: true });
    await controller.reconcile("shop/p1");
    const before = secrets.get("shop/meshid-p1")!;
    status = { ready: true, ca: trustingBoth };
    await controller.reconcile("shop/p1");
    const after = secrets.get("shop/meshid-p1")!;
    expect(kube.writes).toEqual(["create meshid-p1", "replace meshid-p1"]);
    expect(after.data!["tls.crt"]).toBe(before.data!["tls.crt"]);
    expect(after.data!["tls.key"]).toBe(before.data!["tls.key"]);
    expect(Buffer.from(after.data!["ca.crt"]!, "base64").toString()).toBe(
      trustingBoth.trustBundlePem,
    );
  });

  it("draws a different renewal time for pods issued together", async () => {
    let draw = 0;
    const { controller, secrets } = setup({ pods: [pod("p1"), pod("p2"), pod("p3")] });
    (controller as unknown as { deps: { random: () => number } }).deps.random = () =>
      [0.1, 0.5, 0.9][draw++]!;
    for (const p of ["p1", "p2", "p3"]) await controller.reconcile(`shop/${p}`);
    const renewAts = new Set(
      ["p1", "p2", "p3"].map(
        (p) => secrets.get(`shop/meshid-${p}`)!.metadata!.annotations![annotations.renewAt],
      ),
    );
    expect(renewAts.size).toBe(3);
  });
});
