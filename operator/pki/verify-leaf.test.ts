import { inspectCertificate } from "./inspect";
import { issueLeaf } from "./issue";
import { generateKey } from "./keys";
import { DAY, newTestCa, spiffeId, T0, type TestCa } from "./testing/fixtures";
import { summarizeCertificates, verifyLeafChain } from "./verify-leaf";

let a: TestCa;
let b: TestCa;
let chainPem: string;

beforeAll(async () => {
  [a, b] = await Promise.all([newTestCa(), newTestCa()]);
  const key = await generateKey({ algorithm: "ECDSA" });
  const leaf = await issueLeaf(a.ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: ["payments.shop.svc"],
    ipAddresses: [],
    usages: ["server auth", "client auth"],
    durationMs: DAY,
    now: T0,
  });
  chainPem = leaf.certChainPem;
});

const at = (ms: number) => new Date(T0.getTime() + ms);

describe("verifyLeafChain", () => {
  it("verifies a leaf the CA issued against the CA's root, and returns leaf, intermediate and root", () => {
    const v = verifyLeafChain(chainPem, a.boot.root.certPem, at(60_000));
    expect(v).toMatchObject({ verified: true });
    expect(v.path.map((p) => p.subject)).toEqual([
      "",
      ...summarizeCertificates(a.boot.intermediate.certPem, "i").map((c) => c.subject),
      ...summarizeCertificates(a.boot.root.certPem, "r").map((c) => c.subject),
    ]);
  });

  it.each([
    [
      "another CA's root",
      () => b.boot.root.certPem,
      60_000,
      "ChainIncomplete",
      /does not chain to a trusted root/,
    ],
    [
      "a time after the leaf's notAfter",
      () => a.boot.root.certPem,
      DAY + 1_000,
      "LeafExpired",
      /expired at/,
    ],
    [
      "a time before the leaf's notBefore",
      () => a.boot.root.certPem,
      -DAY,
      "LeafNotYetValid",
      /not valid before/,
    ],
  ])("does not verify against %s", (_name, bundle, offset, code, problem) => {
    const v = verifyLeafChain(chainPem, bundle(), at(offset));
    expect(v).toMatchObject({ verified: false, code });
    expect(v.problem).toMatch(problem);
  });

  it("reports a bundle that holds no certificate instead of throwing", () => {
    expect(verifyLeafChain(chainPem, "junk", at(0))).toMatchObject({
      verified: false,
      code: "PemMalformed",
    });
  });
});

describe("summarizeCertificates", () => {
  it("gives the issuer the fingerprint the operator records as meshid.dev/issuer-fingerprint", () => {
    const [, issuer] = summarizeCertificates(chainPem, "tls.crt");
    expect(issuer!.fingerprint).toBe(inspectCertificate(chainPem).issuerFingerprint);
    expect(issuer!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
});
