import type { CoreV1Event, V1Secret } from "@kubernetes/client-node";
import type { MeshCA, MeshCAStatus } from "../../api/v1alpha1/meshca";
import { newTestCa, rootCaOf } from "../pki/testing/fixtures";
import { loadSigningCa, signIntermediate, type SigningCa } from "../pki";
import type { EventPort, MeshCaPort, SecretPort } from "../kube/client";
import { FakeClock } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { issuedSecret } from "../testing/issued-secret";
import { createLogger } from "../logger";
import type { CaStatus } from "./ca-manager";
import { ExistingCache } from "./existing";
import { CaStatusController } from "./ca-status-controller";

/** FakeKube is a narrow MeshCaPort + SecretPort + EventPort. */
class FakeKube implements MeshCaPort, Pick<SecretPort, "getSecret">, EventPort {
  meshCa?: MeshCA;
  statuses: MeshCAStatus[] = [];
  writes: string[] = [];
  events: CoreV1Event[] = [];
  caSecret?: V1Secret;
  async getMeshCa() {
    return this.meshCa;
  }
  async createMeshCa(ca: MeshCA) {
    this.writes.push("create meshca");
    this.meshCa = ca;
    return ca;
  }
  async patchMeshCaStatus(_name: string, status: unknown) {
    this.writes.push("patch meshca/status");
    this.statuses.push(status as MeshCAStatus);
  }
  async getSecret() {
    return this.caSecret;
  }
  async createEvent(_ns: string, e: CoreV1Event) {
    this.events.push(e);
  }
}

const now = new Date("2026-11-28T12:00:00Z");
let first: SigningCa;
let second: SigningCa;
let firstPem: string;

beforeAll(async () => {
  const { boot, ca } = await newTestCa({ now });
  firstPem = boot.intermediate.certPem;
  first = ca;
  const next = await signIntermediate(await rootCaOf(boot, now), {
    trustDomain: "cluster.local",
    clusterDomain: "cluster.local",
    dnsSuffixes: ["svc"],
    now,
  });
  second = await loadSigningCa({ ...next, rootsPem: boot.root.certPem, now });
});

const leafSecret = (ca: SigningCa, name: string) => issuedSecret(ca, { name, now });

function setup(secrets: V1Secret[]) {
  let status: CaStatus = { ready: true, ca: first };
  const kube = new FakeKube();
  const cache = new MemoryCache<V1Secret>(secrets);
  const controller = new CaStatusController({
    secrets: cache,
    kube,
    ca: () => status,
    renewAt: () => new Date("2026-12-01T00:00:00Z"),
    existing: new ExistingCache(),
    clock: new FakeClock(),
    logger: createLogger("error"),
    config: { namespace: "meshid-system", caSecret: "meshid-ca", caMode: "bootstrap" },
  });
  return { kube, controller, setCa: (s: CaStatus) => (status = s) };
}

describe("CaStatusController.reconcile", () => {
  it("creates the MeshCA once, reports the CA and the leaves per issuer, and writes nothing when nothing changed", async () => {
    const { kube, controller } = setup([
      await leafSecret(first, "a"),
      await leafSecret(first, "b"),
    ]);
    await controller.reconcile();
    expect(kube.writes).toEqual(["create meshca", "patch meshca/status"]);
    expect(kube.meshCa?.metadata.name).toBe("meshid");
    expect(kube.statuses[0]).toMatchObject({
      phase: "Active",
      mode: "bootstrap",
      intermediate: { fingerprint: first.fingerprint, renewAt: "2026-12-01T00:00:00.000Z" },
      previousIntermediates: [],
      leaves: { total: 2, current: 2, previous: 0, untrusted: 0 },
      issuers: [{ fingerprint: first.fingerprint, leaves: 2 }],
    });
    expect(kube.statuses[0]?.roots).toHaveLength(1);

    await controller.reconcile();
    expect(kube.writes).toHaveLength(2);
  });

  it("is Draining with an Event after the intermediate is renewed, and lists the replaced one", async () => {
    const { kube, controller, setCa } = setup([
      await leafSecret(first, "a"),
      await leafSecret(first, "b"),
    ]);
    await controller.reconcile();
    setCa({ ready: true, ca: second });
    kube.caSecret = {
      metadata: { name: "meshid-ca" },
      data: { "previous.crt": Buffer.from(firstPem).toString("base64") },
    };
    await controller.reconcile();
    expect(kube.statuses[1]).toMatchObject({
      phase: "Draining",
      intermediate: { fingerprint: second.fingerprint },
      previousIntermediates: [{ fingerprint: first.fingerprint }],
      leaves: { total: 2, current: 0, previous: 2, untrusted: 0 },
      issuers: [{ fingerprint: first.fingerprint, leaves: 2 }],
    });
    expect(kube.events.map((e) => [e.reason, e.message])).toEqual([
      [
        "CAPhaseChanged",
        "MeshCA meshid: Active → Draining (0/2 leaves on the current intermediate)",
      ],
    ]);
  });

  it("reports NotReady with the CA's message", async () => {
    const { kube, controller, setCa } = setup([]);
    setCa({ ready: false, reason: "CaExpired", message: "the CA expired" });
    await controller.reconcile();
    expect(kube.statuses[0]).toMatchObject({ phase: "NotReady", message: "the CA expired" });
  });
});
