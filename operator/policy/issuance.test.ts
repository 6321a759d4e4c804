import {
  decideIssuance,
  renewalTime,
  requeueDelay,
  specHash,
  type DesiredCertificate,
  type ExistingCertificate,
} from "./issuance";

const now = new Date("2026-11-28T12:00:00Z");
const hour = 3_600_000;
const desired: DesiredCertificate = {
  spiffeId: "spiffe://cluster.local/ns/shop/sa/payments",
  dnsNames: ["payments.shop.svc"],
  ipAddresses: [],
  usages: ["server auth", "client auth"],
  key: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
  durationMs: 24 * hour,
  renewBeforeMs: 8 * hour,
};
const good: ExistingCertificate = {
  readable: true,
  keyMatches: true,
  issuerFingerprint: "ca1",
  specHash: specHash(desired),
  podUid: "uid-1",
  notAfter: new Date(now.getTime() + 10 * hour),
  renewAt: new Date(now.getTime() + 2 * hour),
};
const ctx = { podUid: "uid-1", caFingerprint: "ca1", now };

describe("decideIssuance", () => {
  it.each<[string, ExistingCertificate | undefined, DesiredCertificate, string]>([
    ["a pod without a Secret gets a new certificate", undefined, desired, "new"],
    [
      "an unreadable Secret is replaced",
      { readable: false, keyMatches: false },
      desired,
      "unreadable",
    ],
    [
      "a key that does not match the certificate is replaced",
      { ...good, keyMatches: false },
      desired,
      "key-mismatch",
    ],
    [
      "a Secret issued to an earlier pod of the same name is replaced",
      { ...good, podUid: "uid-0" },
      desired,
      "pod-replaced",
    ],
    [
      "a certificate from a CA that is no longer current is replaced",
      { ...good, issuerFingerprint: "ca0" },
      desired,
      "ca-change",
    ],
    [
      "changed DNS names re-issue",
      good,
      { ...desired, dnsNames: ["other.shop.svc"] },
      "spec-change",
    ],
    ["a changed pod IP re-issues", good, { ...desired, ipAddresses: ["10.0.0.9"] }, "spec-change"],
    [
      "changed key settings re-issue",
      good,
      { ...desired, key: { ...desired.key, size: 384 } },
      "spec-change",
    ],
    ["changed usages re-issue", good, { ...desired, usages: ["server auth"] }, "spec-change"],
    [
      "an expired certificate is replaced",
      { ...good, notAfter: new Date(now.getTime() - 1) },
      desired,
      "expired",
    ],
    [
      "a certificate whose renewal time has come is renewed",
      { ...good, renewAt: now },
      desired,
      "renewal",
    ],
    [
      "a certificate without a stored renewal time is renewed",
      { ...good, renewAt: undefined },
      desired,
      "renewal",
    ],
  ])("%s", (_name, existing, want, reason) => {
    expect(decideIssuance(want, existing, ctx)).toEqual({ issue: true, reason });
  });

  it("keeps a current certificate until its stored renewal time", () => {
    expect(decideIssuance(desired, good, ctx)).toEqual({ issue: false, renewAt: good.renewAt });
  });

  it("does not re-issue when only the order of DNS names or usages changed", () => {
    const reordered = {
      ...desired,
      dnsNames: [...desired.dnsNames].reverse(),
      usages: ["client auth", "server auth"] as DesiredCertificate["usages"],
    };
    expect(decideIssuance(reordered, good, ctx).issue).toBe(false);
  });

  it("does not re-issue when only the lifetime changed (it applies at the next renewal)", () => {
    expect(decideIssuance({ ...desired, durationMs: 48 * hour }, good, ctx).issue).toBe(false);
  });
});

describe("renewalTime", () => {
  const nb = new Date(now.getTime() - 5 * 60_000);
  const na = new Date(now.getTime() + 24 * hour);
  it.each([
    ["without jitter it is notAfter minus renewBefore", 0, na.getTime() - 8 * hour],
    [
      "the largest jitter moves it 10% of renewBefore earlier",
      1,
      na.getTime() - 8 * hour - 0.1 * 8 * hour,
    ],
    ["half the jitter moves it 5% earlier", 0.5, na.getTime() - 8 * hour - 0.05 * 8 * hour],
  ])("%s", (_n, jitter, expected) => {
    expect(renewalTime(nb, na, 8 * hour, jitter).getTime()).toBe(expected);
  });

  it("renews after two thirds of the life of a certificate shorter than renewBefore", () => {
    const shortAfter = new Date(nb.getTime() + 3 * hour);
    expect(renewalTime(nb, shortAfter, 8 * hour, 0).getTime()).toBe(nb.getTime() + 2 * hour);
  });

  it("gives different times for different jitter draws", () => {
    const times = new Set([0.1, 0.4, 0.8].map((j) => renewalTime(nb, na, 8 * hour, j).getTime()));
    expect(times.size).toBe(3);
  });
});

describe("requeueDelay", () => {
  it.each([
    ["waits until a future time", new Date(now.getTime() + 5_000), 5_000],
    ["never asks for zero", now, 1_000],
    ["never asks for a negative delay", new Date(now.getTime() - 60_000), 1_000],
  ])("%s", (_n, at, ms) => {
    expect(requeueDelay(at, now)).toBe(ms);
  });
});
