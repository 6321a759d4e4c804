import { spreadFraction } from "./pacing";
import {
  decideIssuance,
  desiredContents,
  keyMayBeKept,
  renewalTime,
  requeueDelay,
  trustBundleStale,
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
  chain: "current",
  ownerUid: "uid-1",
  recordedPodUid: "uid-1",
  contents: desiredContents(desired),
  issuedAt: new Date(now.getTime() - 12 * hour),
  notAfter: new Date(now.getTime() + 10 * hour),
  renewAt: new Date(now.getTime() + 2 * hour),
};
const ctx = { podUid: "uid-1", now };

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
      "a Secret bound to an earlier pod of the same name is replaced",
      { ...good, ownerUid: "uid-0", recordedPodUid: "uid-0" },
      desired,
      "pod-replaced",
    ],
    [
      "a certificate that does not chain to a trusted CA is invalid, whatever its annotations say",
      { ...good, chain: "untrusted" },
      desired,
      "invalid",
    ],
    [
      "a recorded pod UID that is not the owner's is invalid",
      { ...good, recordedPodUid: "uid-9" },
      desired,
      "invalid",
    ],
    [
      "a renewal time after notAfter (e.g. 2099) is invalid",
      { ...good, renewAt: new Date("2099-01-01T00:00:00Z") },
      desired,
      "invalid",
    ],
    [
      "a renewal time before the certificate was issued is invalid",
      { ...good, renewAt: new Date(now.getTime() - 13 * hour) },
      desired,
      "invalid",
    ],
    [
      "a certificate without a stored renewal time is invalid",
      { ...good, renewAt: undefined },
      desired,
      "invalid",
    ],
    [
      "a certificate from a trusted CA that is no longer current is replaced",
      { ...good, chain: "other-trusted" },
      desired,
      "ca-change",
    ],
    [
      "a certificate claiming another SPIFFE ID is replaced as invalid",
      { ...good, contents: { ...good.contents!, uris: ["spiffe://cluster.local/ns/bank/sa/x"] } },
      desired,
      "invalid",
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
      {
        ...good,
        notAfter: new Date(now.getTime() - 1),
        renewAt: new Date(now.getTime() - 2 * hour),
      },
      desired,
      "expired",
    ],
    [
      "a certificate whose renewal time has come is renewed",
      { ...good, renewAt: now },
      desired,
      "renewal",
    ],
  ])("%s", (_name, existing, want, reason) => {
    expect(decideIssuance(want, existing, ctx)).toMatchObject({ issue: true, reason });
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

  it("re-issues a certificate issued before a renewal request on the pod", () => {
    const renewRequest = { at: new Date(now.getTime() - 1_000), spreadMs: 0 };
    expect(decideIssuance(desired, good, { ...ctx, renewRequest })).toEqual({
      issue: true,
      reason: "requested",
    });
  });

  it("re-issues a certificate of the request's own second (times are whole seconds) once", () => {
    const renewRequest = { at: good.issuedAt!, spreadMs: 0 };
    expect(decideIssuance(desired, good, { ...ctx, renewRequest })).toMatchObject({
      issue: true,
      reason: "requested",
    });
    const answered = { ...good, renewedFor: good.issuedAt! };
    expect(decideIssuance(desired, answered, { ...ctx, renewRequest }).issue).toBe(false);
  });

  it("does not re-issue again for a request older than the certificate", () => {
    const renewRequest = { at: new Date(now.getTime() - 13 * hour), spreadMs: 0 };
    expect(decideIssuance(desired, good, { ...ctx, renewRequest }).issue).toBe(false);
  });

  it("paces a MeshIdentity-wide request: a pod whose slot has not come waits for it", () => {
    const renewRequest = { at: now, spreadMs: 120_000 };
    const slot = now.getTime() + Math.floor(spreadFraction("uid-1") * 120_000);
    expect(decideIssuance(desired, good, { ...ctx, renewRequest })).toEqual({
      issue: false,
      renewAt: new Date(slot),
      paced: "requested",
    });
    expect(
      decideIssuance(desired, good, { ...ctx, now: new Date(slot), renewRequest }),
    ).toMatchObject({ issue: true, reason: "requested" });
  });

  describe("a leaf of the previous CA, with the re-issue paced", () => {
    const previous: ExistingCertificate = { ...good, chain: "other-trusted" };
    const caChange = { since: now, spreadMs: 60_000 };
    const slot = new Date(now.getTime() + Math.floor(spreadFraction("uid-1") * 60_000));

    it("is kept until its pod's slot of the window, and looked at again then", () => {
      expect(decideIssuance(desired, previous, { ...ctx, caChange })).toEqual({
        issue: false,
        renewAt: slot,
        paced: "ca-change",
      });
    });

    it("is re-issued as ca-change at its slot", () => {
      expect(decideIssuance(desired, previous, { ...ctx, now: slot, caChange })).toEqual({
        issue: true,
        reason: "ca-change",
      });
    });

    it("is re-issued at once when its contents differ from the spec", () => {
      const changed = { ...desired, dnsNames: ["other.shop.svc"] };
      expect(decideIssuance(changed, previous, { ...ctx, caChange })).toMatchObject({
        issue: true,
        reason: "spec-change",
      });
    });

    it("is renewed at its own renewal time when that comes before its slot", () => {
      const late = { since: now, spreadMs: 100 * hour };
      const due = { ...previous, renewAt: new Date(now.getTime() - 1_000) };
      expect(decideIssuance(desired, due, { ...ctx, caChange: late })).toEqual({
        issue: true,
        reason: "renewal",
      });
    });

    it("is not paced when nothing paces it", () => {
      expect(decideIssuance(desired, previous, ctx)).toEqual({ issue: true, reason: "ca-change" });
    });
  });
});

describe("a MeshIdentity spec change, with the re-issue paced", () => {
  const changed = { ...desired, dnsNames: ["other.shop.svc"] };
  const specChange = { since: now, spreadMs: 60_000 };
  const slot = new Date(now.getTime() + Math.floor(spreadFraction("uid-1") * 60_000));

  it("keeps the certificate until its pod's slot of the window, and looks again then", () => {
    expect(decideIssuance(changed, good, { ...ctx, specChange })).toEqual({
      issue: false,
      renewAt: slot,
      paced: "spec-change",
    });
  });

  it("re-issues as spec-change at the slot, naming what differs", () => {
    expect(decideIssuance(changed, good, { ...ctx, now: slot, specChange })).toEqual({
      issue: true,
      reason: "spec-change",
      detail: "DNS names differ from the spec",
    });
  });

  it("does not hold back a certificate that matches the spec", () => {
    expect(decideIssuance(desired, good, { ...ctx, specChange })).toEqual({
      issue: false,
      renewAt: good.renewAt,
    });
  });

  it("renews at the certificate's own renewal time when that comes before the slot", () => {
    const due = { ...good, renewAt: new Date(now.getTime() - 1_000) };
    const late = { since: now, spreadMs: 100 * hour };
    expect(decideIssuance(changed, due, { ...ctx, specChange: late })).toEqual({
      issue: true,
      reason: "renewal",
    });
  });

  it("re-issues at once once the window has passed (a pod IP changed long after)", () => {
    const old = { since: new Date(now.getTime() - 2 * 60_000), spreadMs: 60_000 };
    expect(decideIssuance(changed, good, { ...ctx, specChange: old })).toMatchObject({
      issue: true,
      reason: "spec-change",
    });
  });

  it("never paces what verification refuses", () => {
    const forged = { ...good, chain: "untrusted" as const };
    expect(decideIssuance(changed, forged, { ...ctx, specChange })).toMatchObject({
      issue: true,
      reason: "invalid",
    });
  });

  it("never paces a certificate of another SPIFFE ID: only tampering puts one there", () => {
    const copied = {
      ...good,
      contents: { ...good.contents!, uris: ["spiffe://cluster.local/ns/shop/sa/admin"] },
    };
    expect(decideIssuance(desired, copied, { ...ctx, specChange })).toEqual({
      issue: true,
      reason: "invalid",
      detail: "the certificate certifies another SPIFFE ID than the pod's",
    });
  });

  it("takes the earlier slot when a CA change is paced too", () => {
    const previous = { ...good, chain: "other-trusted" as const };
    const caChange = { since: new Date(now.getTime() + hour), spreadMs: 60_000 };
    expect(decideIssuance(changed, previous, { ...ctx, caChange, specChange })).toEqual({
      issue: false,
      renewAt: slot,
      paced: "ca-change",
    });
  });
});

describe("keyMayBeKept", () => {
  const never = { ...desired.key, rotationPolicy: "Never" as const };
  it("keeps the key of this identity's certificate under rotationPolicy Never", () => {
    expect(keyMayBeKept(good, never, desired.spiffeId)).toBe(true);
  });
  it("never re-certifies a key copied from another identity's Secret", () => {
    const copied = {
      ...good,
      contents: { ...good.contents!, uris: ["spiffe://cluster.local/ns/shop/sa/admin"] },
    };
    expect(keyMayBeKept(copied, never, desired.spiffeId)).toBe(false);
  });
  it("rotates under rotationPolicy Always", () => {
    expect(keyMayBeKept(good, desired.key, desired.spiffeId)).toBe(false);
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

describe("trustBundleStale", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  it.each([
    ["the same bundle is current", pem, pem, false],
    ["the same bundle with CRLF line ends is current", pem.replace(/\n/g, "\r\n"), pem, false],
    ["a bundle missing a root is stale", pem, pem + pem.replace("AAAA", "BBBB"), true],
    ["no ca.crt is stale", undefined, pem, true],
  ])("%s", (_n, stored, bundle, want) => {
    expect(trustBundleStale(stored, bundle)).toBe(want);
  });
});
