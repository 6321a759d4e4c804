import type { V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity, MeshIdentitySpec } from "../../api/v1alpha1/types";
import {
  beginRefreshAt,
  decidePodCertificate,
  podCertificateKeyType,
  type PcrContext,
  type PcrFacts,
} from "./pod-certificate";

const now = new Date("2026-11-30T12:00:00Z");
const min = 60_000;
const h = 60 * min;

const pod = (
  over: Partial<{
    uid: string;
    labels: Record<string, string>;
    sa: string;
    node: string;
    phase: string;
  }> = {},
): V1Pod => ({
  metadata: {
    name: "pay-0",
    namespace: "shop",
    uid: over.uid ?? "uid-1",
    labels: over.labels ?? { app: "pay" },
  },
  spec: {
    containers: [],
    serviceAccountName: over.sa ?? "payments",
    nodeName: over.node ?? "node-a",
  },
  status: { phase: over.phase ?? "Running" },
});

const identity = (
  name: string,
  spec: Partial<MeshIdentitySpec> = {},
  created = "2026-01-01T00:00:00Z",
): MeshIdentity => ({
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: { name, namespace: "shop", creationTimestamp: created as unknown as Date },
  spec: { selector: { matchLabels: { app: "pay" } }, delivery: "PodCertificate", ...spec },
});

const facts = (over: Partial<PcrFacts> = {}): PcrFacts => ({
  namespace: "shop",
  podName: "pay-0",
  podUid: "uid-1",
  serviceAccountName: "payments",
  nodeName: "node-a",
  maxExpirationSeconds: 86_400,
  userAnnotations: {},
  terminal: false,
  ...over,
});

const ctx = (over: Partial<PcrContext> = {}): PcrContext => ({
  pod: pod(),
  identities: [identity("payments")],
  trustDomain: "cluster.local",
  dnsPolicy: { clusterDomain: "cluster.local", extraSuffixes: [] },
  defaultDurationMs: 24 * h,
  ca: { ready: true, notAfter: new Date(now.getTime() + 365 * 24 * h) },
  key: { ok: true, key: { algorithm: "ECDSA", size: 256 } },
  now,
  ...over,
});

describe("decidePodCertificate", () => {
  it.each<[string, Partial<PcrFacts>, Partial<PcrContext>, Record<string, unknown>]>([
    ["skips a request that already carries its answer", { terminal: true }, {}, { action: "skip" }],
    [
      "denies unverifiedUserAnnotations, which meshid never reads",
      { userAnnotations: { "test.k8s.io/spiffe-path": "/ns/x/sa/y" } },
      {},
      { action: "deny", reason: "InvalidUnverifiedUserAnnotations" },
    ],
    [
      "denies a request for a pod that does not exist",
      {},
      { pod: undefined },
      { action: "deny", reason: "PodNotFound" },
    ],
    [
      "denies a pod UID that is not the pod's",
      { podUid: "uid-old" },
      {},
      { action: "deny", reason: "PodMismatch" },
    ],
    [
      "denies a request from a node the pod does not run on",
      { nodeName: "node-b" },
      {},
      { action: "deny", reason: "PodMismatch" },
    ],
    [
      "denies a request naming another service account than the pod's",
      { serviceAccountName: "admin" },
      {},
      { action: "deny", reason: "PodMismatch" },
    ],
    [
      "denies a finished pod",
      {},
      { pod: pod({ phase: "Succeeded" }) },
      { action: "deny", reason: "PodFinished" },
    ],
    [
      "denies a pod no MeshIdentity selects",
      {},
      { pod: pod({ labels: { app: "other" } }) },
      { action: "deny", reason: "NotSelected" },
    ],
    [
      "denies a pod two MeshIdentities select",
      {},
      { identities: [identity("payments"), identity("overlap", {}, "2026-02-01T00:00:00Z")] },
      { action: "deny", reason: "Conflict" },
    ],
    [
      "denies a pod whose MeshIdentity delivers by Secret",
      {},
      { identities: [identity("payments", { delivery: "Secret" })] },
      { action: "deny", reason: "DeliveryNotPodCertificate" },
    ],
    [
      "denies a pod whose MeshIdentity asks for a DNS name outside the namespace",
      {},
      { identities: [identity("payments", { dnsNames: ["payments.other.svc"] })] },
      { action: "deny", reason: "DNSNameNotAllowed" },
    ],
    [
      "denies a key of another type than the MeshIdentity allows",
      {},
      { key: { ok: true, key: { algorithm: "Ed25519" } } },
      { action: "deny", reason: "UnsupportedKeyType" },
    ],
    [
      "denies a P-384 key when the MeshIdentity allows P-256",
      {},
      { key: { ok: true, key: { algorithm: "ECDSA", size: 384 } } },
      { action: "deny", reason: "UnsupportedKeyType" },
    ],
    [
      "denies a key meshid cannot read or verify",
      {},
      { key: { ok: false, message: "The request's proof of possession does not verify" } },
      { action: "deny", reason: "UnsupportedKeyType" },
    ],
    [
      "denies when the MeshIdentity's duration is below the 1h pod certificates need",
      {},
      { identities: [identity("payments", { duration: "30m" })] },
      { action: "deny", reason: "DurationTooShort" },
    ],
    [
      "leaves the request pending while the CA is not ready (kubelet takes Failed as final)",
      {},
      { ca: { ready: false, message: "loading" } },
      { action: "wait" },
    ],
    [
      "fails when the CA expires within the hour",
      {},
      { ca: { ready: true, notAfter: new Date(now.getTime() + 30 * min) } },
      { action: "fail", reason: "CAExpiresSoon" },
    ],
    [
      "issues for the pod's own SPIFFE ID, the duration cut to maxExpirationSeconds",
      { maxExpirationSeconds: 3600 },
      {},
      {
        action: "issue",
        durationMs: h - 2 * min,
        backdateMs: 2 * min,
        desired: expect.objectContaining({
          spiffeId: "spiffe://cluster.local/ns/shop/sa/payments",
        }),
      },
    ],
    [
      "issues for the MeshIdentity's duration when the request allows more",
      {},
      { identities: [identity("payments", { duration: "2h" })] },
      { action: "issue", durationMs: 2 * h },
    ],
  ])("%s", (_name, f, c, want) => {
    expect(decidePodCertificate(facts(f), ctx(c))).toMatchObject(want);
  });

  it("never takes the SPIFFE ID from the request: another service account in the request is denied", () => {
    const got = decidePodCertificate(facts({ serviceAccountName: "kube-admin" }), ctx());
    expect(got.action).toBe("deny");
  });
});

describe("beginRefreshAt", () => {
  const nb = new Date("2026-11-30T12:00:00Z");
  const spec = { durationMs: 24 * h, renewBeforeMs: 8 * h };
  it.each([
    ["at notAfter - renewBefore without jitter", 24 * h, 0, 16 * h],
    ["up to 10% of renewBefore earlier with the most jitter", 24 * h, 0.999999, 16 * h - 0.8 * h],
    ["with renewBefore scaled to a lifetime cut to 1h", h, 0, 40 * min],
  ])("refreshes %s", (_name, lifetime, jitter, offset) => {
    const got = beginRefreshAt(nb, new Date(nb.getTime() + lifetime), spec, jitter);
    expect(Math.abs(got.getTime() - (nb.getTime() + offset))).toBeLessThan(1000);
  });

  it("stays 10 minutes inside the lifetime however short renewBefore is", () => {
    const na = new Date(nb.getTime() + h);
    const got = beginRefreshAt(nb, na, { durationMs: h, renewBeforeMs: 1000 }, 0);
    expect(got.getTime()).toBe(na.getTime() - 10 * min);
  });
});

describe("podCertificateKeyType", () => {
  it.each([
    [{ algorithm: "ECDSA" as const, size: 256 }, "ECDSAP256"],
    [{ algorithm: "ECDSA" as const, size: 384 }, "ECDSAP384"],
    [{ algorithm: "Ed25519" as const }, "ED25519"],
    [{ algorithm: "RSA" as const, size: 3072 }, "RSA3072"],
    [{ algorithm: "RSA" as const, size: 4096 }, "RSA4096"],
    [{ algorithm: "RSA" as const, size: 2048 }, undefined],
  ])("names %j as kubelet's keyType %s", (key, want) => {
    expect(podCertificateKeyType(key)).toBe(want);
  });
});
