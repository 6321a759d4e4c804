import { PemMalformedError } from "./errors";
import { inspectCertificate, keyMatchesCertificate } from "./inspect";
import { issueLeaf, type IssuedLeaf } from "./issue";
import { generateKey, type GeneratedKey } from "./keys";
import { DAY, newTestCa, spiffeId, T0, type TestCa } from "./testing/fixtures";
import { firstPem } from "./testing/openssl";

let a: TestCa;
let key: GeneratedKey;
let other: GeneratedKey;
let leaf: IssuedLeaf;

beforeAll(async () => {
  [a, key, other] = await Promise.all([
    newTestCa(),
    generateKey({ algorithm: "RSA" }),
    generateKey({ algorithm: "ECDSA" }),
  ]);
  leaf = await issueLeaf(a.ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: ["payments.shop.svc", "web-0.payments.shop.svc.cluster.local"],
    ipAddresses: ["10.0.0.7", "FD00:0:0::7", "::ffff:10.1.2.3"],
    usages: ["server auth", "client auth", "digital signature", "key encipherment"],
    durationMs: DAY,
    now: T0,
  });
});

const garbage: [string, string][] = [
  ["an empty string", ""],
  ["text without PEM", "hello"],
  [
    "a PEM body that is not a certificate",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
  ],
  [
    "a PEM body that is not base64",
    "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
  ],
];

describe("inspectCertificate", () => {
  it("reads back what issueLeaf wrote, IP addresses in canonical form", () => {
    expect(inspectCertificate(leaf.certChainPem)).toEqual({
      serialHex: leaf.serialHex,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      uris: [spiffeId],
      dnsNames: ["payments.shop.svc", "web-0.payments.shop.svc.cluster.local"],
      ipAddresses: ["10.0.0.7", "fd00::7", "::ffff:10.1.2.3"],
      extKeyUsages: ["server auth", "client auth"],
      keyUsages: ["digital signature", "key encipherment"],
      keySpec: { algorithm: "RSA", size: 2048 },
      issuerFingerprint: a.ca.fingerprint,
    });
  });

  it("has no issuer fingerprint when tls.crt holds the leaf alone", () => {
    const info = inspectCertificate(firstPem(leaf.certChainPem));
    expect(info.issuerFingerprint).toBeUndefined();
    expect(info.serialHex).toBe(leaf.serialHex);
  });

  it.each(garbage)("refuses %s with PemMalformedError", (_, pem) => {
    expect(() => inspectCertificate(pem)).toThrow(PemMalformedError);
  });
});

describe("keyMatchesCertificate", () => {
  it.each<[string, () => string, boolean]>([
    ["the leaf's own key matches", () => key.privateKeyPem, true],
    ["another key does not match", () => other.privateKeyPem, false],
    ["the CA's key does not match", () => a.boot.intermediate.keyPem, false],
    [
      "a garbage key does not match",
      () => "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      false,
    ],
    ["an empty key does not match", () => "", false],
    ["a public key does not match", () => key.publicKeyPem, false],
  ])("%s", (_, keyPem, expected) => {
    expect(keyMatchesCertificate(leaf.certChainPem, keyPem())).toBe(expected);
  });

  it.each(garbage)("refuses a certificate that is %s with PemMalformedError", (_, pem) => {
    expect(() => keyMatchesCertificate(pem, key.privateKeyPem)).toThrow(PemMalformedError);
  });
});
