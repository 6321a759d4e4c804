import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { inspectCertificate, type SigningCa } from "../pki";
import { newTestCa } from "../pki/testing/fixtures";
import { stubCsr } from "../pki/testing/openssl";
import type { EventPort, PodCertificatePort, PodPort } from "../kube/client";
import { ApiError } from "../kube/errors";
import type { PodCertificateRequest } from "../kube/pod-certificate-request";
import { FakeClock } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { createLogger } from "../logger";
import { PcrController } from "./pcr-controller";
import { PodCertificateLedger } from "./pod-certificate-ledger";

/** FakeKube records status writes, and can refuse the next one with a conflict. */
class FakeKube implements PodCertificatePort, PodPort, EventPort {
  written: PodCertificateRequest[] = [];
  /** live is what the API server holds, read when the cache lacks the request's pod. */
  live: V1Pod[] = [];
  async getPod(ns: string, name: string) {
    return this.live.find((p) => p.metadata?.namespace === ns && p.metadata.name === name);
  }
  events: CoreV1Event[] = [];
  conflictNext = false;
  async updatePodCertificateRequestStatus(pcr: PodCertificateRequest) {
    if (this.conflictNext) {
      this.conflictNext = false;
      throw new ApiError(409, "Conflict", "the object has been modified");
    }
    this.written.push(pcr);
  }
  async createEvent(_ns: string, e: CoreV1Event) {
    this.events.push(e);
  }
}

const now = new Date("2026-11-28T12:00:00Z");
let ca: SigningCa;
let csrP256 = "";

beforeAll(async () => {
  ca = (await newTestCa({ now: new Date(now.getTime() - 60_000) })).ca;
  csrP256 = (await stubCsr(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])).csrB64;
});

const pod: V1Pod = {
  metadata: { name: "pay-0", namespace: "shop", uid: "uid-1", labels: { app: "pay" } },
  spec: { containers: [], serviceAccountName: "payments", nodeName: "node-a" },
  status: { phase: "Pending" },
};

const identity = (spec: Partial<MeshIdentity["spec"]> = {}): MeshIdentity => ({
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: { name: "payments", namespace: "shop", creationTimestamp: new Date("2026-01-01") },
  spec: { selector: { matchLabels: { app: "pay" } }, delivery: "PodCertificate", ...spec },
});

const request = (spec: Partial<PodCertificateRequest["spec"]> = {}): PodCertificateRequest => ({
  metadata: {
    name: "pay-0-abc",
    namespace: "shop",
    uid: "pcr-1",
    resourceVersion: "7",
    creationTimestamp: new Date(now.getTime() - 1000),
  },
  spec: {
    signerName: "meshid.dev/identity",
    podName: "pay-0",
    podUID: "uid-1",
    serviceAccountName: "payments",
    serviceAccountUID: "sa-1",
    nodeName: "node-a",
    nodeUID: "node-1",
    maxExpirationSeconds: 86_400,
    stubPKCS10Request: csrP256,
    ...spec,
  },
});

function setup(pcr: PodCertificateRequest, identities = [identity()]) {
  const kube = new FakeKube();
  const ledger = new PodCertificateLedger();
  const pcrs = new MemoryCache<PodCertificateRequest>([pcr]);
  const controller = new PcrController({
    pcrs,
    pods: new MemoryCache<V1Pod>([pod]),
    identities: new MemoryCache<MeshIdentity>(identities),
    kube,
    ca: () => ({ ready: true, ca }),
    clock: new FakeClock(now),
    random: () => 0.5,
    logger: createLogger("error"),
    config: {
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      allowedDnsSuffixes: [],
      defaultDurationMs: 24 * 3_600_000,
      concurrency: 2,
    },
    ledger,
  });
  return { controller, kube, ledger, pcrs };
}

describe("PcrController.reconcile", () => {
  it("issues once for the pod's SPIFFE ID, records it in the ledger, and writes nothing on a second run", async () => {
    const { controller, kube, ledger } = setup(request());
    expect(await controller.reconcile("shop/pay-0-abc")).toEqual({});
    expect(kube.written).toHaveLength(1);
    const status = kube.written[0]!.status!;
    expect(status.conditions).toEqual([
      expect.objectContaining({ type: "Issued", status: "True" }),
    ]);
    const leaf = inspectCertificate(status.certificateChain!);
    expect(leaf.uris).toEqual(["spiffe://cluster.local/ns/shop/sa/payments"]);
    expect(kube.written[0]!.metadata?.resourceVersion).toBe("7");
    expect(ledger.current("uid-1", now)?.notAfter.toISOString()).toBe(
      status.notAfter!.replace("Z", ".000Z"),
    );
    await controller.reconcile("shop/pay-0-abc");
    expect(kube.written).toHaveLength(1);
  });

  it("denies a request whose pod runs elsewhere, with an Event on the pod", async () => {
    const { controller, kube } = setup(request({ nodeName: "node-b" }));
    await controller.reconcile("shop/pay-0-abc");
    expect(kube.written[0]!.status).toEqual({
      conditions: [expect.objectContaining({ type: "Denied", reason: "PodMismatch" })],
    });
    expect(kube.events.map((e) => e.reason)).toEqual(["PodCertificateDenied"]);
  });

  it("reads a pod the cache has not seen yet from the API server instead of denying it", async () => {
    const pcr = request({ podName: "pay-new", podUID: "uid-new" });
    const { controller, kube } = setup(pcr);
    kube.live = [{ ...pod, metadata: { ...pod.metadata, name: "pay-new", uid: "uid-new" } }];
    await controller.reconcile("shop/pay-0-abc");
    expect(kube.written[0]!.status!.conditions).toEqual([
      expect.objectContaining({ type: "Issued" }),
    ]);
  });

  it("rethrows a conflict so the queue retries, and answers on the retry", async () => {
    const { controller, kube } = setup(request());
    kube.conflictNext = true;
    await expect(controller.reconcile("shop/pay-0-abc")).rejects.toMatchObject({ statusCode: 409 });
    await controller.reconcile("shop/pay-0-abc");
    expect(kube.written).toHaveLength(1);
  });

  it("leaves answered requests and other signers' requests alone", async () => {
    const answered = request();
    answered.status = {
      conditions: [
        { type: "Denied", status: "True", reason: "X", message: "", lastTransitionTime: "" },
      ],
    };
    const { controller, kube } = setup(answered);
    await controller.reconcile("shop/pay-0-abc");
    expect(controller.allKeys()).toEqual([]);
    const other = setup(request({ signerName: "example.com/other" }));
    await other.controller.reconcile("shop/pay-0-abc");
    expect([...kube.written, ...other.kube.written]).toEqual([]);
  });
});
