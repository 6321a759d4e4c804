import type { CoreV1Event, V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import { newTestCa } from "../pki/testing/fixtures";
import type { MeshIdentity, MeshIdentityStatus } from "../../api/v1alpha1/types";
import { type SigningCa } from "../pki";
import type { ConfigMapPort, EventPort, SecretPort, StatusPort } from "../kube/client";
import { ApiError } from "../kube/errors";
import { buildTrustBundle, slimSecret } from "../kube/objects";
import type { Source } from "../kube/manager";
import { FakeClock } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { annotations, trustBundleKey, trustBundleLabel } from "../policy/naming";
import { createLogger } from "../logger";
import type { CaStatus } from "./ca-manager";
import { ExistingCache } from "./existing";
import { FailureLog } from "./failure-log";
import { IdentityController } from "./identity-controller";
import { IssuanceTally } from "./issuance-tally";
import { PodController } from "./pod-controller";
import { podsByUid, secretsByPod } from "./cache";

/** FakeKube is a narrow in-memory StatusPort, EventPort, ConfigMapPort (and SecretPort for issuing). */
class FakeKube implements StatusPort, EventPort, ConfigMapPort, SecretPort {
  writes: string[] = [];
  events: CoreV1Event[] = [];
  private rv = 1;
  constructor(
    private readonly secrets: MemoryCache<V1Secret>,
    private readonly identities: MemoryCache<MeshIdentity>,
    private readonly bundles: MemoryCache<V1ConfigMap>,
  ) {}

  async getSecret(ns: string, name: string) {
    return this.secrets.get(`${ns}/${name}`);
  }
  async createSecret(ns: string, s: V1Secret) {
    const stored = {
      ...s,
      metadata: { ...s.metadata, uid: `uid-${this.rv}`, resourceVersion: String(this.rv++) },
    };
    this.secrets.put(stored);
    return stored;
  }
  async replaceSecret(_ns: string, s: V1Secret) {
    const stored = { ...s, metadata: { ...s.metadata, resourceVersion: String(this.rv++) } };
    this.secrets.put(stored);
    return stored;
  }
  async deleteSecret(ns: string, name: string) {
    this.secrets.delete(`${ns}/${name}`);
  }

  async patchMeshIdentityStatus(ns: string, name: string, status: unknown) {
    this.writes.push(`status ${ns}/${name}`);
    const cur = this.identities.get(`${ns}/${name}`)!;
    // A merge patch: null deletes the field.
    const merged = Object.fromEntries(
      Object.entries({ ...cur.status, ...(status as object) }).filter(([, v]) => v !== null),
    ) as MeshIdentityStatus;
    this.identities.put({ ...cur, status: merged });
  }
  async createEvent(_ns: string, e: CoreV1Event) {
    this.events.push(e);
  }
  async getConfigMap(ns: string, name: string) {
    return this.bundles.get(`${ns}/${name}`);
  }
  async createConfigMap(ns: string, cm: V1ConfigMap) {
    if (this.bundles.get(`${ns}/${cm.metadata!.name}`))
      throw new ApiError(409, "AlreadyExists", "exists");
    this.writes.push(`create configmap ${ns}/${cm.metadata!.name}`);
    const stored = { ...cm, metadata: { ...cm.metadata, resourceVersion: String(this.rv++) } };
    this.bundles.put(stored);
    return stored;
  }
  async replaceConfigMap(ns: string, cm: V1ConfigMap) {
    const cur = this.bundles.get(`${ns}/${cm.metadata!.name}`);
    if (cur?.metadata?.resourceVersion !== cm.metadata?.resourceVersion)
      throw new ApiError(409, "Conflict", "stale");
    this.writes.push(`replace configmap ${ns}/${cm.metadata!.name}`);
    const stored = { ...cm, metadata: { ...cm.metadata, resourceVersion: String(this.rv++) } };
    this.bundles.put(stored);
    return stored;
  }
}

/** pod is a running pod that mounts the Secret meshid issues for it. */
const pod = (name: string, namespace = "shop"): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, uid: `pod-${name}`, labels: { app: "pay" } },
  spec: {
    serviceAccountName: "payments",
    containers: [{ name: "c", image: "i" }],
    volumes: [{ name: "meshid-identity", secret: { secretName: `meshid-${name}` } }],
  },
  status: { phase: "Running", podIP: "10.1.0.7" },
});

const identity = (name = "payments", namespace = "shop"): MeshIdentity => ({
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: {
    name,
    namespace,
    generation: 1,
    uid: `mi-${namespace}-${name}`,
    creationTimestamp: new Date("2026-01-01T00:00:00Z"),
  },
  spec: {
    selector: { matchLabels: { app: name === "payments" ? "pay" : name } },
    dnsNames: ["$(POD_NAME).payments.shop.svc"],
    duration: "1h",
    renewBefore: "20m",
  },
});

let signingCa: SigningCa;
beforeAll(async () => {
  const now = new Date("2026-11-28T12:00:00Z");
  signingCa = (await newTestCa({ now })).ca;
});

const config = {
  trustDomain: "cluster.local",
  clusterDomain: "cluster.local",
  allowedDnsSuffixes: [],
  defaultDurationMs: 24 * 3_600_000,
};

function setup(opts: { identities?: MeshIdentity[]; pods?: V1Pod[] } = {}) {
  const clock = new FakeClock();
  const pods = new MemoryCache<V1Pod>(opts.pods ?? [pod("p1"), pod("p2")], [podsByUid]);
  const identities = new MemoryCache<MeshIdentity>(opts.identities ?? [identity()]);
  const secrets = new MemoryCache<V1Secret>([], [secretsByPod]);
  const bundles = new MemoryCache<V1ConfigMap>();
  const kube = new FakeKube(secrets, identities, bundles);
  const state: { ca: CaStatus } = { ca: { ready: true, ca: signingCa } };
  const existing = new ExistingCache();
  const failures = new FailureLog();
  const tally = new IssuanceTally();
  const logger = createLogger("error");
  const shared = { pods, identities, secrets, kube, clock, logger, existing, failures, tally };
  const pod_ = new PodController({
    ...shared,
    ca: () => state.ca,
    random: () => 0.5,
    config: { ...config, concurrency: 4, reissueRate: 20 },
  });
  const controller = new IdentityController({
    ...shared,
    bundles,
    ca: () => state.ca,
    config,
  });
  /** issueAll runs the pod reconcile for every pod, so the secrets cache holds real Secrets. */
  const issueAll = async () => {
    for (const p of pods.list())
      await pod_.reconcile(`${p.metadata!.namespace}/${p.metadata!.name}`);
  };
  return { clock, pods, identities, secrets, bundles, kube, state, controller, issueAll };
}

const ready = (mi: MeshIdentity | undefined) =>
  mi?.status?.conditions?.find((c) => c.type === "Ready");

describe("IdentityController.reconcile", () => {
  it("writes Ready=True with the counts once, and nothing on a second reconcile", async () => {
    const { controller, kube, identities, secrets, issueAll } = setup();
    await issueAll();
    const first = await controller.reconcile("shop/payments");
    expect(kube.writes).toEqual(["status shop/payments", "create configmap shop/meshid-ca-bundle"]);
    const mi = identities.get("shop/payments");
    expect(mi?.status).toMatchObject({ observedGeneration: 1, selectedPods: 2, issuedPods: 2 });
    expect(ready(mi)).toMatchObject({ status: "True", reason: "Issued" });
    const renewAts = ["p1", "p2"].map(
      (p) =>
        new Date(secrets.get(`shop/meshid-${p}`)!.metadata!.annotations![annotations.renewAt]!),
    );
    const earliest = Math.min(...renewAts.map((d) => d.getTime()));
    expect(new Date(mi!.status!.nextRenewalTime!).getTime()).toBe(
      Math.floor(earliest / 1000) * 1000,
    );
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(kube.events.map((e) => [e.type, e.reason])).toEqual([
      ["Normal", "Issued"], // Ready turned True
      ["Normal", "Issued"], // "Issued 2 certificates (2 new)"
    ]);

    await controller.reconcile("shop/payments");
    expect(kube.writes).toHaveLength(2);
    expect(kube.events).toHaveLength(2);
  });

  it.each<[string, (cm: V1ConfigMap) => V1ConfigMap | undefined, string]>([
    ["creates a missing trust-bundle ConfigMap", () => undefined, "create"],
    [
      "replaces a trust-bundle ConfigMap whose data was edited",
      (cm) => ({ ...cm, data: { [trustBundleKey]: "edited" } }),
      "replace",
    ],
    [
      "replaces a trust-bundle ConfigMap without the meshid.dev/trust-bundle label",
      (cm) => ({ ...cm, metadata: { ...cm.metadata, labels: {} } }),
      "replace",
    ],
  ])("%s", async (_name, damage, verb) => {
    const { controller, kube, bundles, issueAll } = setup();
    await issueAll();
    const damaged = damage({
      ...buildTrustBundle("shop", signingCa.trustBundlePem),
      metadata: { ...buildTrustBundle("shop", "").metadata, resourceVersion: "500" },
    });
    if (damaged) bundles.put(damaged);
    await controller.reconcile("shop/payments");
    expect(kube.writes.filter((w) => w.includes("configmap"))).toEqual([
      `${verb} configmap shop/meshid-ca-bundle`,
    ]);
    const cm = bundles.get("shop/meshid-ca-bundle");
    expect(cm?.data).toEqual({ [trustBundleKey]: signingCa.trustBundlePem });
    expect(cm?.metadata?.labels?.[trustBundleLabel]).toBe("true");

    await controller.reconcile("shop/payments");
    expect(kube.writes.filter((w) => w.includes("configmap"))).toHaveLength(1);
  });

  it("leaves an intact trust-bundle ConfigMap alone", async () => {
    const { controller, kube, bundles, issueAll } = setup();
    await issueAll();
    bundles.put({
      ...buildTrustBundle("shop", signingCa.trustBundlePem),
      metadata: { ...buildTrustBundle("shop", "").metadata, resourceVersion: "500" },
    });
    await controller.reconcile("shop/payments");
    expect(kube.writes).toEqual(["status shop/payments"]);
  });

  it("reports Ready=False CANotReady with the CA's reason code leading the message, and touches no trust bundle", async () => {
    const { controller, kube, identities, state, issueAll } = setup();
    await issueAll();
    state.ca = {
      ready: false,
      reason: "CASecretMissing",
      message: "the CA Secret meshid-system/meshid-ca is missing",
    };
    const result = await controller.reconcile("shop/payments");
    expect(result).toEqual({});
    expect(kube.writes).toEqual(["status shop/payments"]);
    const cond = ready(identities.get("shop/payments"));
    expect(cond).toMatchObject({ status: "False", reason: "CANotReady" });
    expect(cond?.message).toBe(
      "the CA is not ready: CASecretMissing: the CA Secret meshid-system/meshid-ca is missing",
    );
    expect(identities.get("shop/payments")?.status?.issuedPods).toBe(0);
    expect(kube.events.map((e) => [e.type, e.reason])).toContainEqual(["Warning", "CANotReady"]);
  });

  it("forgets a MeshIdentity that is gone and writes nothing", async () => {
    const { controller, kube } = setup({ identities: [] });
    expect(await controller.reconcile("shop/payments")).toEqual({});
    expect(kube.writes).toEqual([]);
  });
});

describe("IdentityController.reconcile recount pacing", () => {
  /** A clock that only moves when the test moves it, or when the recount lists the pods. */
  function ticking(listCostMs: number) {
    const env = setup();
    let t = env.clock.now().getTime();
    let listed = 0;
    const clock = { now: () => new Date(t), setTimeout: env.clock.setTimeout.bind(env.clock) };
    const list = env.pods.list.bind(env.pods);
    env.pods.list = (ns?: string) => {
      listed++;
      t += listCostMs;
      return list(ns);
    };
    const controller = new IdentityController({
      pods: env.pods,
      identities: env.identities,
      secrets: env.secrets,
      bundles: env.bundles,
      kube: env.kube,
      clock,
      logger: createLogger("error"),
      existing: new ExistingCache(),
      failures: new FailureLog(),
      tally: new IssuanceTally(),
      ca: () => env.state.ca,
      config,
    });
    return { ...env, controller, move: (ms: number) => (t += ms), listed: () => listed };
  }

  it("waits twenty times as long as the last recount took before the next, unless the spec changed", async () => {
    const { controller, identities, move, listed } = ticking(100);
    await controller.reconcile("shop/payments");
    expect(listed()).toBe(1);
    const early = await controller.reconcile("shop/payments");
    expect(listed()).toBe(1);
    expect(early.requeueAfterMs).toBe(1_900);

    move(1_900);
    await controller.reconcile("shop/payments");
    expect(listed()).toBe(2);

    const mi = identities.get("shop/payments")!;
    identities.put({ ...mi, metadata: { ...mi.metadata, generation: 2 } });
    await controller.reconcile("shop/payments");
    expect(listed()).toBe(3);
  });
});

describe("IdentityController.reconcile after a restart", () => {
  /** slimView shows the Secrets as the informer caches them: without tls.crt or tls.key. */
  const slimView = (whole: MemoryCache<V1Secret>): Source<V1Secret> => ({
    get: (key) => {
      const s = whole.get(key);
      return s && slimSecret(s);
    },
    list: (ns) => whole.list(ns).map(slimSecret),
    byIndex: (name, value) => whole.byIndex(name, value).map(slimSecret),
    on: (handler) => whole.on(handler),
  });

  it("holds its status while its Secrets await their first verification, at most a minute", async () => {
    const env = setup();
    await env.issueAll();
    await env.controller.reconcile("shop/payments");
    const writes = env.kube.writes.length;
    // A new process: nothing verified yet, and the cache holds no certificate.
    const restarted = new IdentityController({
      ...{ pods: env.pods, identities: env.identities, bundles: env.bundles, kube: env.kube },
      secrets: slimView(env.secrets),
      clock: env.clock,
      logger: createLogger("error"),
      existing: new ExistingCache(),
      failures: new FailureLog(),
      tally: new IssuanceTally(),
      ca: () => env.state.ca,
      config,
    });
    const held = await restarted.reconcile("shop/payments");
    expect(held.requeueAfterMs).toBe(2_000);
    expect(env.kube.writes).toHaveLength(writes);
    expect(ready(env.identities.get("shop/payments"))?.reason).toBe("Issued");

    await env.clock.advance(60_000);
    await restarted.reconcile("shop/payments");
    expect(env.kube.writes.slice(writes)).toEqual(["status shop/payments"]);
    expect(ready(env.identities.get("shop/payments"))?.reason).toBe("Pending");
  });
});

describe("IdentityController.watches", () => {
  function subscribed() {
    const env = setup({
      identities: [identity("payments"), identity("orders"), identity("payments", "bank")],
    });
    const calls: { keys: string[]; delayMs: number | undefined }[] = [];
    for (const w of env.controller.watches())
      w.subscribe((keys, delayMs) => calls.push({ keys, delayMs }));
    return { ...env, calls };
  }

  it("turns a pod event into every MeshIdentity key of the pod's namespace, delayed by a second", () => {
    const { pods, calls } = subscribed();
    pods.put(pod("p3"));
    expect(calls).toEqual([{ keys: ["shop/payments", "shop/orders"], delayMs: 1000 }]);
  });

  it("turns a trust-bundle ConfigMap event into every MeshIdentity key of its namespace at once", () => {
    const { bundles, calls } = subscribed();
    bundles.put(buildTrustBundle("shop", "x"));
    bundles.delete("shop/meshid-ca-bundle");
    expect(calls).toEqual([
      { keys: ["shop/payments", "shop/orders"], delayMs: undefined },
      { keys: ["shop/payments", "shop/orders"], delayMs: undefined },
    ]);
  });

  it("turns a Secret event into the key of the MeshIdentity its label names, delayed by a second", () => {
    const { secrets, calls } = subscribed();
    secrets.put({
      metadata: {
        name: "meshid-p1",
        namespace: "shop",
        labels: { "meshid.dev/identity": "orders" },
      },
    });
    secrets.put({ metadata: { name: "unlabelled", namespace: "shop" } });
    expect(calls).toEqual([
      { keys: ["shop/orders"], delayMs: 1000 },
      { keys: [], delayMs: 1000 },
    ]);
  });

  it("turns a MeshIdentity event into its own key at once", () => {
    const { identities, calls } = subscribed();
    identities.put(identity("orders"));
    expect(calls).toEqual([{ keys: ["shop/orders"], delayMs: undefined }]);
  });
});

describe("IdentityController.allKeys", () => {
  it("lists every MeshIdentity of every namespace", () => {
    const { controller } = setup({
      identities: [identity("payments"), identity("orders"), identity("payments", "bank")],
    });
    expect(controller.allKeys().sort()).toEqual(["bank/payments", "shop/orders", "shop/payments"]);
  });
});
