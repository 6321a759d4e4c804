import { Writable } from "node:stream";
import type { CoreV1Event, V1Secret } from "@kubernetes/client-node";
import { bootstrapCa, bootstrapSecretData, decodeCaSecretData, loadSigningCa } from "../pki";
import type { EventPort, SecretPort } from "../kube/client";
import { ApiError } from "../kube/errors";
import { buildCaSecret } from "../kube/objects";
import { FakeClock } from "../testing/fake-clock";
import { createLogger } from "../logger";
import { CaManager, type CaStatus } from "./ca-manager";

const ns = "meshid-system";

/**
 * FakeSecrets is a narrow in-memory SecretPort + EventPort: creates stamp creationTimestamp from
 * the clock, a uid and a resourceVersion, and a duplicate create is a 409.
 */
class FakeSecrets implements SecretPort, EventPort {
  readonly items = new Map<string, V1Secret>();
  writes: string[] = [];
  events: CoreV1Event[] = [];
  private rv = 1;
  constructor(private readonly clock: FakeClock) {}

  /** store puts a Secret as the API server would, outside the operator's writes. */
  store(s: V1Secret): V1Secret {
    const name = s.metadata!.name!;
    const prior = this.items.get(name);
    const stored: V1Secret = {
      ...s,
      metadata: {
        ...s.metadata,
        uid: prior?.metadata?.uid ?? `uid-${name}-${this.rv}`,
        resourceVersion: String(this.rv++),
        creationTimestamp: prior?.metadata?.creationTimestamp ?? this.clock.now(),
      },
    };
    this.items.set(name, stored);
    return stored;
  }

  async getSecret(namespace: string, name: string) {
    return namespace === ns ? this.items.get(name) : undefined;
  }
  async createSecret(_namespace: string, s: V1Secret) {
    if (this.items.has(s.metadata!.name!)) throw new ApiError(409, "AlreadyExists", "exists");
    this.writes.push(`create ${s.metadata!.name}`);
    return this.store(s);
  }
  async replaceSecret(_namespace: string, s: V1Secret) {
    this.writes.push(`replace ${s.metadata!.name}`);
    return this.store(s);
  }
  async deleteSecret(_namespace: string, name: string) {
    this.writes.push(`delete ${name}`);
    this.items.delete(name);
  }
  async createEvent(_namespace: string, e: CoreV1Event) {
    this.events.push(e);
  }
}

const recheckMs = 1_000;

function setup(
  opts: {
    recheckMs?: number;
    caMode?: "bootstrap" | "external";
    intermediateValidityMs?: number;
    rootValidityMs?: number;
  } = {},
) {
  const clock = new FakeClock();
  const kube = new FakeSecrets(clock);
  const changes: CaStatus[] = [];
  const manager = new CaManager({
    kube,
    clock,
    logger: createLogger("error", new Writable({ write: (_c, _e, done) => done() })),
    config: {
      caMode: opts.caMode ?? "bootstrap",
      caSecret: "meshid-ca",
      rootCaSecret: "meshid-root-ca",
      namespace: ns,
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      allowedDnsSuffixes: [],
      caIntermediateValidityMs: opts.intermediateValidityMs ?? 365 * 86_400_000,
      caRootValidityMs: opts.rootValidityMs ?? 3650 * 86_400_000,
      caRenewFraction: 2 / 3,
    },
    onChange: (s) => changes.push(s),
    recheckMs: opts.recheckMs ?? recheckMs,
  });
  /**
   * recheck advances the clock past the next re-check and waits until it has run to the end:
   * every check ends by arming the next timer. Loading a CA awaits crypto off the event loop,
   * so the wait is bounded by a deadline, not by a number of turns.
   */
  const recheck = async (ms = opts.recheckMs ?? recheckMs) => {
    await clock.advance(ms);
    const deadline = Date.now() + 5_000;
    while (clock.pending === 0) {
      if (Date.now() > deadline) throw new Error("the CA re-check did not finish");
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  return { clock, kube, changes, manager, recheck };
}

/** caPair is a freshly bootstrapped CA as the two Secrets bootstrap mode writes. */
async function caPair(now: Date, intermediateValidityDays?: number) {
  const data = bootstrapSecretData(
    await bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now,
      ...(intermediateValidityDays
        ? { intermediateValidityMs: intermediateValidityDays * 86_400_000 }
        : {}),
    }),
  );
  return {
    intermediate: buildCaSecret(ns, "meshid-ca", data.intermediate),
    root: buildCaSecret(ns, "meshid-root-ca", data.root),
  };
}

const reasonOf = (s: CaStatus) => (s.ready ? "ready" : s.reason);

afterEach(() => jest.restoreAllMocks());

describe("CaManager", () => {
  it("bootstraps the CA Secret, then the root Secret, once, and is ready", async () => {
    const { manager, kube, changes, recheck } = setup();
    await manager.start();
    expect(kube.writes).toEqual(["create meshid-ca", "create meshid-root-ca"]);
    expect(manager.status.ready).toBe(true);
    expect(changes.map(reasonOf)).toEqual(["ready"]);
    expect(kube.items.get("meshid-ca")?.data).toEqual(
      expect.objectContaining({
        "tls.crt": expect.any(String) as string,
        "tls.key": expect.any(String) as string,
        "ca.crt": expect.any(String) as string,
      }),
    );

    await recheck();
    await recheck();
    expect(kube.writes).toHaveLength(2);
    expect(changes).toHaveLength(1);
    expect(kube.events).toEqual([]);
    manager.stop();
  });

  it("adopts the CA another replica created first instead of writing its own", async () => {
    const { manager, kube, clock } = setup();
    const pair = await caPair(clock.now());
    let winner: V1Secret | undefined;
    // The other replica's create lands between this replica's read and its own create.
    const realCreate = kube.createSecret.bind(kube);
    kube.createSecret = async (namespace, s) => {
      winner ??= kube.store(pair.intermediate);
      return realCreate(namespace, s);
    };
    await manager.start();
    expect(kube.writes).toEqual([]);
    expect(manager.status.ready).toBe(true);
    expect(kube.items.get("meshid-ca")).toBe(winner);
    expect(manager.status.ready && manager.status.ca.chainPem).toBe(
      Buffer.from(pair.intermediate.data!["tls.crt"]!, "base64").toString(),
    );
    manager.stop();
  });

  it("reports a corrupt CA Secret with an Event and never writes it", async () => {
    const { manager, kube, changes, clock, recheck } = setup();
    const pair = await caPair(clock.now());
    kube.store({
      ...pair.intermediate,
      data: { ...pair.intermediate.data, "tls.key": "bm9wZQ==" },
    });
    kube.store(pair.root);
    await manager.start();
    expect(manager.status).toMatchObject({ ready: false, reason: "CaSecretCorrupt" });
    expect(changes.map(reasonOf)).toEqual(["CaSecretCorrupt"]);
    expect(kube.events.map((e) => [e.type, e.reason, e.involvedObject.name])).toEqual([
      ["Warning", "CANotReady", "meshid-ca"],
    ]);
    expect(kube.events[0]?.message).toMatch(/^CaSecretCorrupt: /);

    await recheck();
    await recheck();
    expect(kube.writes).toEqual([]);
    expect(kube.events).toHaveLength(1); // the same fault is reported once
    manager.stop();
  });

  it("waits for the CA Secret while the root Secret is younger than 30 s, then reports it missing, creating nothing", async () => {
    const { manager, kube, changes, clock, recheck } = setup();
    kube.store((await caPair(clock.now())).root);
    await manager.start();
    expect(manager.status).toMatchObject({ ready: false, reason: "CALoading" });
    expect(kube.events).toEqual([]);
    expect(changes).toEqual([]);

    await recheck(20_000);
    expect(manager.status).toMatchObject({ ready: false, reason: "CALoading" });
    expect(kube.events).toEqual([]);

    await recheck(10_001);
    expect(manager.status).toMatchObject({ ready: false, reason: "CASecretMissing" });
    expect(changes.map(reasonOf)).toEqual(["CASecretMissing"]);
    expect(kube.events.map((e) => e.reason)).toEqual(["CANotReady"]);
    expect(kube.events[0]?.message).toMatch(/^CASecretMissing: /);
    expect(kube.writes).toEqual([]);
    expect(kube.items.has("meshid-ca")).toBe(false);
    manager.stop();
  });

  it.each<[string, (env: { kube: FakeSecrets; other: V1Secret }) => void, string]>([
    [
      "reports RootCASecretMissing when only the root Secret is gone",
      ({ kube }) => kube.items.delete("meshid-root-ca"),
      "RootCASecretMissing",
    ],
    [
      "reports CASecretMismatch when the root Secret holds another root",
      ({ kube, other }) => kube.store(other),
      "CASecretMismatch",
    ],
  ])(
    "%s, and is ready again with the same CA once the pair is restored",
    async (_name, damage, reason) => {
      const { manager, kube, changes, clock, recheck } = setup();
      await manager.start();
      const ca = manager.status.ready ? manager.status.ca : undefined;
      expect(ca).toBeDefined();
      const root = kube.items.get("meshid-root-ca")!;
      const other = (await caPair(clock.now())).root;

      await clock.advance(60_000); // past the bootstrap grace of a half CA
      damage({ kube, other });
      await recheck();
      expect(manager.status).toMatchObject({ ready: false, reason });
      expect(kube.events.map((e) => e.reason)).toEqual(["CANotReady"]);
      expect(kube.events[0]?.message).toMatch(new RegExp(`^${reason}: `));

      kube.store(root);
      await recheck();
      expect(manager.status.ready).toBe(true);
      expect(manager.status.ready && manager.status.ca.fingerprint).toBe(ca!.fingerprint);
      expect(changes.map(reasonOf)).toEqual(["ready", reason, "ready"]);
      expect(kube.writes).toEqual(["create meshid-ca", "create meshid-root-ca"]);
      manager.stop();
    },
  );

  it("re-checks no more often than recheckMs once ready, and stops re-checking after stop", async () => {
    const { manager, kube, clock } = setup();
    const reads = jest.spyOn(kube, "getSecret");
    await manager.start();
    const atStart = reads.mock.calls.length;
    await clock.advance(recheckMs - 1);
    expect(reads.mock.calls.length).toBe(atStart);
    manager.stop();
    await clock.advance(10 * recheckMs);
    expect(reads.mock.calls.length).toBe(atStart);
    expect(clock.pending).toBe(0);
  });

  // An intermediate that expires while loaded must be reported (CANotReady status and Event), not
  // only met as IssueFailed when a pod is signed.
  it("reports an external intermediate that expires while loaded as CaExpired, warning first that no successor came", async () => {
    const hour = 3_600_000;
    const { manager, kube, changes, clock, recheck } = setup({
      recheckMs: hour,
      caMode: "external",
    });
    const pair = await caPair(clock.now(), 1);
    kube.store(pair.intermediate);
    kube.store(pair.root);
    await manager.start();
    expect(manager.status.ready).toBe(true);

    await recheck(25 * hour);
    // The premise: the stored CA no longer loads at this time.
    const pems = decodeCaSecretData(pair.intermediate.data);
    await expect(
      loadSigningCa({
        certPem: pems.certPem,
        keyPem: pems.keyPem,
        rootsPem: pems.caPem,
        now: clock.now(),
      }),
    ).rejects.toMatchObject({ code: "CaExpired" });
    expect(manager.status).toMatchObject({ ready: false, reason: "CaExpired" });
    expect(changes.map(reasonOf)).toEqual(["ready", "CaExpired"]);
    expect(kube.events.map((e) => [e.type, e.reason])).toEqual([
      ["Warning", "CAExpiringWithoutSuccessor"],
      ["Warning", "CANotReady"],
    ]);
    expect(kube.writes).toEqual([]);
    manager.stop();
  });

  it("reports a new bundle under the same intermediate as a change, keeping the pacing start", async () => {
    const { manager, kube, changes, clock, recheck } = setup({ caMode: "external" });
    const pair = await caPair(clock.now());
    const other = await caPair(clock.now());
    kube.store(pair.intermediate);
    await manager.start();
    const since = manager.status.ready ? manager.status.since : undefined;
    const both =
      Buffer.from(pair.intermediate.data!["ca.crt"]!, "base64").toString() +
      Buffer.from(other.root.data!["tls.crt"]!, "base64").toString();
    kube.store({
      ...pair.intermediate,
      data: { ...pair.intermediate.data, "ca.crt": Buffer.from(both).toString("base64") },
    });
    await recheck();
    expect(changes.map(reasonOf)).toEqual(["ready", "ready"]);
    expect(manager.status.ready && manager.status.ca.trustBundlePem).toBe(both);
    expect(manager.status.ready && manager.status.since).toEqual(since);
    manager.stop();
  });

  describe("intermediate renewal (bootstrap mode)", () => {
    const hour = 3_600_000;
    const minute = 60_000;
    const pemOf = (s: V1Secret | undefined, key: string) =>
      Buffer.from(s?.data?.[key] ?? "", "base64").toString();

    it("signs a successor with the same root at two thirds of the intermediate's life, keeps the replaced one in previous.crt, and switches to it without a restart", async () => {
      const { manager, kube, changes, clock, recheck } = setup({
        recheckMs: hour,
        intermediateValidityMs: 3 * hour,
      });
      await manager.start();
      const first = manager.status.ready ? manager.status.ca : undefined;
      const firstSecret = kube.items.get("meshid-ca");
      const root = kube.items.get("meshid-root-ca");
      // The 5-minute backdate does not count: renewal is due 2 h after the start.
      await recheck(hour);
      expect(kube.writes).toEqual(["create meshid-ca", "create meshid-root-ca"]);
      await recheck(hour + minute);

      expect(kube.writes).toEqual([
        "create meshid-ca",
        "create meshid-root-ca",
        "replace meshid-ca",
      ]);
      const now = manager.status.ready ? manager.status : undefined;
      expect(now?.ca.fingerprint).not.toBe(first?.fingerprint);
      expect(now?.ca.trustBundlePem).toBe(first?.trustBundlePem);
      // The pacing window opens when the successor is loaded, at its renewal time or just after.
      const due =
        first!.notBefore.getTime() +
        ((first!.notAfter.getTime() - first!.notBefore.getTime()) * 2) / 3;
      expect(now!.since!.getTime()).toBeGreaterThanOrEqual(Math.floor(due));
      expect(now!.since!.getTime()).toBeLessThanOrEqual(clock.now().getTime());
      expect(now!.ca.notAfter.getTime()).toBeGreaterThan(first!.notAfter.getTime());
      const stored = kube.items.get("meshid-ca");
      expect(pemOf(stored, "previous.crt")).toBe(pemOf(firstSecret, "tls.crt"));
      expect(pemOf(stored, "ca.crt")).toBe(pemOf(firstSecret, "ca.crt"));
      expect(kube.items.get("meshid-root-ca")).toBe(root);
      expect(changes.map(reasonOf)).toEqual(["ready", "ready"]);
      expect(kube.events.map((e) => [e.type, e.reason])).toEqual([
        ["Normal", "CAIntermediateRenewed"],
      ]);

      await recheck(hour);
      expect(kube.writes).toHaveLength(3);
      manager.stop();
    });

    it("does not renew when the root ends before a longer successor could, and warns once", async () => {
      const { manager, kube, changes, recheck } = setup({
        recheckMs: hour,
        intermediateValidityMs: 3 * hour,
        rootValidityMs: 3 * hour,
      });
      await manager.start();
      await recheck(hour);
      await recheck(hour);
      await recheck(10 * minute);
      expect(kube.writes).toEqual(["create meshid-ca", "create meshid-root-ca"]);
      expect(changes.map(reasonOf)).toEqual(["ready"]);
      expect(manager.expiringWithoutSuccessor).toBe(true);
      expect(kube.events.map((e) => [e.type, e.reason])).toEqual([
        ["Warning", "CAExpiringWithoutSuccessor"],
      ]);
      expect(kube.events[0]?.message).toMatch(/rotate the root/);
      manager.stop();
    });
  });
});
