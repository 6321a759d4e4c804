import type { V1Secret } from "@kubernetes/client-node";
import { newTestCa } from "../pki/testing/fixtures";
import {
  CLOCK_SKEW_MS,
  generateKey,
  type GeneratedKey,
  type IssuedLeaf,
  issueLeaf,
  type SigningCa,
} from "../pki";
import { annotations } from "../policy/naming";
import { cacheId, ExistingCache, gatherExisting, knownExisting } from "./existing";
import { slimSecret } from "../kube/objects";

const now = new Date("2026-11-28T12:00:00Z");
const spiffeId = "spiffe://cluster.local/ns/shop/sa/payments";
const renewAt = "2026-11-28T12:40:00.123Z";

async function signingCaOf(): Promise<SigningCa> {
  return (await newTestCa({ now })).ca;
}

async function leafOf(ca: SigningCa, key: GeneratedKey): Promise<IssuedLeaf> {
  return issueLeaf(ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: ["p1.payments.shop.svc"],
    ipAddresses: [],
    usages: ["server auth", "client auth"],
    durationMs: 3_600_000,
    now,
  });
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** secretOf is an issued Secret as the informer would hold it. */
function secretOf(
  data: { crt?: string; key?: string },
  meta: { uid?: string; resourceVersion?: string } = { uid: "s-1", resourceVersion: "7" },
): V1Secret {
  return {
    metadata: {
      name: "meshid-p1",
      namespace: "shop",
      ...meta,
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p1", uid: "pod-p1" }],
      annotations: { [annotations.podUid]: "pod-p1-recorded", [annotations.renewAt]: renewAt },
    },
    data: {
      ...(data.crt !== undefined ? { "tls.crt": b64(data.crt) } : {}),
      ...(data.key !== undefined ? { "tls.key": b64(data.key) } : {}),
    },
  };
}

/** firstCertificate is the leaf of a PEM chain. */
const firstCertificate = (chainPem: string) =>
  chainPem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n";

let ca: SigningCa;
let otherCa: SigningCa;
let key: GeneratedKey;
let otherKey: GeneratedKey;
let leaf: IssuedLeaf;
let foreignLeaf: IssuedLeaf;
beforeAll(async () => {
  [ca, otherCa, key, otherKey] = await Promise.all([
    signingCaOf(),
    signingCaOf(),
    generateKey({ algorithm: "ECDSA", size: 256 }),
    generateKey({ algorithm: "ECDSA", size: 256 }),
  ]);
  [leaf, foreignLeaf] = await Promise.all([leafOf(ca, key), leafOf(otherCa, key)]);
});

describe("knownExisting", () => {
  it("judges a whole Secret, and leaves a cached copy without a verdict to a whole read", () => {
    const whole = secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem });
    const cache = new ExistingCache();
    expect(knownExisting(slimSecret(whole), ca, cache)).toBeUndefined();
    expect(() => gatherExisting(slimSecret(whole), ca, cache)).toThrow(TypeError);
    expect(knownExisting(whole, ca, cache)).toMatchObject({ readable: true, chain: "current" });
    // Verified once, the same version is known from its cached copy too.
    expect(knownExisting(slimSecret(whole), ca, cache)).toMatchObject({ readable: true });
  });
});

describe("cacheId", () => {
  it("names the Secret's uid, its resourceVersion and the CA's fingerprint", () => {
    expect(cacheId(secretOf({}), ca)).toBe(`s-1@7@${ca.fingerprint}`);
  });

  it("differs between two CAs for the same Secret version", () => {
    expect(cacheId(secretOf({}), ca)).not.toBe(cacheId(secretOf({}), otherCa));
  });

  it.each([
    ["a Secret without a uid", { resourceVersion: "7" }],
    ["a Secret without a resourceVersion", { uid: "s-1" }],
    ["a Secret with neither", {}],
  ])("is undefined for %s", (_name, meta) => {
    expect(cacheId(secretOf({}, meta), ca)).toBeUndefined();
  });
});

describe("gatherExisting", () => {
  it("verifies a leaf the CA issued as chain current, with its contents, dates, key and binding", () => {
    const got = gatherExisting(
      secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem }),
      ca,
      new ExistingCache(),
    );
    expect(got).toEqual({
      readable: true,
      keyMatches: true,
      chain: "current",
      issuerFingerprint: ca.fingerprint,
      ownerUid: "pod-p1",
      recordedPodUid: "pod-p1-recorded",
      contents: {
        uris: [spiffeId],
        dnsNames: ["p1.payments.shop.svc"],
        ipAddresses: [],
        extKeyUsages: expect.arrayContaining(["server auth", "client auth"]) as string[],
        key: { algorithm: "ECDSA", size: 256 },
      },
      issuedAt: new Date(leaf.notBefore.getTime() + CLOCK_SKEW_MS),
      notAfter: leaf.notAfter,
      renewAt: new Date(renewAt),
      keyPem: key.privateKeyPem,
    });
    expect(got.issuedAt).toEqual(now);
  });

  it("calls a leaf of another CA, placed before the real intermediate, untrusted", () => {
    const forged = firstCertificate(foreignLeaf.certChainPem) + ca.chainPem;
    const got = gatherExisting(
      secretOf({ crt: forged, key: key.privateKeyPem }),
      ca,
      new ExistingCache(),
    );
    expect(got).toMatchObject({ readable: true, keyMatches: true, chain: "untrusted" });
  });

  it.each([
    ["tls.crt is not a certificate", () => ({ crt: "garbage", key: key.privateKeyPem })],
    ["tls.crt is missing", () => ({ key: key.privateKeyPem })],
    ["tls.key is missing", () => ({ crt: leaf.certChainPem })],
    ["tls.key is empty", () => ({ crt: leaf.certChainPem, key: "" })],
  ])("is unreadable, keeping the binding, when %s", (_name, data) => {
    const got = gatherExisting(secretOf(data()), ca, new ExistingCache());
    expect(got).toEqual({
      readable: false,
      keyMatches: false,
      ownerUid: "pod-p1",
      recordedPodUid: "pod-p1-recorded",
    });
  });

  it.each([
    ["the private key of another certificate", () => otherKey.privateKeyPem],
    ["not a private key at all", () => "garbage"],
  ])("reports keyMatches false when tls.key is %s", (_name, keyPem) => {
    const got = gatherExisting(
      secretOf({ crt: leaf.certChainPem, key: keyPem() }),
      ca,
      new ExistingCache(),
    );
    expect(got).toMatchObject({ readable: true, keyMatches: false, chain: "current" });
  });

  it("leaves out the owner, the recorded pod UID and the renewal time when the Secret has none", () => {
    const secret = secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem });
    delete secret.metadata!.ownerReferences;
    delete secret.metadata!.annotations;
    const got = gatherExisting(secret, ca, new ExistingCache());
    expect(got.readable).toBe(true);
    expect(got).not.toHaveProperty("ownerUid");
    expect(got).not.toHaveProperty("recordedPodUid");
    expect(got).not.toHaveProperty("renewAt");
  });

  it("returns the cached object for the same uid and resourceVersion, and gathers a new resourceVersion again", () => {
    const cache = new ExistingCache();
    const v7 = secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem });
    const first = gatherExisting(v7, ca, cache);
    // Same version, even with other data: the cache answers without parsing.
    const again = gatherExisting({ ...v7, data: { "tls.crt": b64("garbage") } }, ca, cache);
    expect(again).toBe(first);

    const v8 = secretOf(
      { crt: "garbage", key: key.privateKeyPem },
      { uid: "s-1", resourceVersion: "8" },
    );
    const next = gatherExisting(v8, ca, cache);
    expect(next).not.toBe(first);
    expect(next.readable).toBe(false);
  });

  it("gathers a Secret again under another CA", () => {
    const cache = new ExistingCache();
    const secret = secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem });
    const underCa = gatherExisting(secret, ca, cache);
    const underOther = gatherExisting(secret, otherCa, cache);
    expect(underOther).not.toBe(underCa);
    expect(underOther.chain).toBe("untrusted");
  });

  it("caches nothing for a Secret without a resourceVersion", () => {
    const cache = new ExistingCache();
    const secret = secretOf({ crt: leaf.certChainPem, key: key.privateKeyPem }, { uid: "s-1" });
    const first = gatherExisting(secret, ca, cache);
    const second = gatherExisting(secret, ca, cache);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
  });
});
