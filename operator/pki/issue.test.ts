import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import * as pkijs from "pkijs";
import type { MeshIdError } from "../errors";
import {
  CaExpiredError,
  CaNotYetValidError,
  InvalidLeafRequestError,
  NameConstraintViolationError,
  PemMalformedError,
  WeakKeyError,
} from "./errors";
import type { SanEntry } from "./extensions";
import { issueLeaf, type LeafRequest } from "./issue";
import { generateKey, type GeneratedKey, type KeySpec } from "./keys";
import type { SigningCa } from "./signing-ca";
import {
  DAY,
  forgeCertificate,
  newTestCa,
  oddKey,
  spiffeId,
  T0,
  type TestCa,
} from "./testing/fixtures";
import { firstPem, verify, x509Text } from "./testing/openssl";
import { x509 } from "./x509";

let a: TestCa;
let key: GeneratedKey;

beforeAll(async () => {
  [a, key] = await Promise.all([newTestCa(), generateKey({ algorithm: "ECDSA" })]);
});

function request(change: Partial<LeafRequest> = {}): LeafRequest {
  return {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: ["payments.shop.svc", "payments.shop.svc.cluster.local"],
    ipAddresses: ["10.0.0.7", "fd00::7"],
    usages: ["server auth", "client auth"],
    durationMs: DAY,
    now: T0,
    ...change,
  };
}

function verifyLeaf(leafChainPem: string, purpose: "sslserver" | "sslclient", ca = a) {
  return verify({
    rootPem: ca.boot.root.certPem,
    intermediatesPem: ca.boot.intermediate.certPem,
    leafPem: firstPem(leafChainPem),
    purpose,
    at: T0,
  });
}

describe("issueLeaf", () => {
  it.each<[string, KeySpec, string]>([
    ["an ECDSA P-256 key", { algorithm: "ECDSA", size: 256 }, "Digital Signature\n"],
    ["an ECDSA P-384 key", { algorithm: "ECDSA", size: 384 }, "Digital Signature\n"],
    ["an RSA 2048 key", { algorithm: "RSA", size: 2048 }, "Digital Signature, Key Encipherment\n"],
    ["an Ed25519 key", { algorithm: "Ed25519" }, "Digital Signature\n"],
  ])(
    "issues a leaf for %s that openssl verifies for servers and clients",
    async (_, spec, keyUsage) => {
      const leafKey = await generateKey(spec);
      const leaf = await issueLeaf(a.ca, request({ publicKeyPem: leafKey.publicKeyPem }));
      for (const purpose of ["sslserver", "sslclient"] as const) {
        const result = await verifyLeaf(leaf.certChainPem, purpose);
        expect(result.output).toContain("OK");
        expect(result.ok).toBe(true);
      }
      const text = await x509Text(leaf.certChainPem);
      expect(text).toMatch(/Subject: *\n/);
      expect(text).toMatch(
        /Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/shop\/sa\/payments, DNS:payments.shop.svc, DNS:payments.shop.svc.cluster.local, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:7/,
      );
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toContain(`Key Usage: critical\n                ${keyUsage}`);
      expect(text).toMatch(
        /Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication/,
      );
      expect(text).toContain("X509v3 Subject Key Identifier");
      expect(text).toContain("X509v3 Authority Key Identifier");
      expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
    },
  );

  it.each<[string, KeySpec, string]>([
    [
      "a P-384 intermediate signs with SHA-384",
      { algorithm: "ECDSA", size: 384 },
      "ecdsa-with-SHA384",
    ],
    [
      "an RSA intermediate signs with SHA-256",
      { algorithm: "RSA", size: 2048 },
      "sha256WithRSAEncryption",
    ],
    [
      "an Ed25519 intermediate signs with Ed25519",
      { algorithm: "Ed25519" },
      "Signature Algorithm: ED25519",
    ],
  ])("names the hash that fits the issuer: %s", async (_, intermediateKey, algorithm) => {
    const ca = await newTestCa({ intermediateKey });
    const leaf = await issueLeaf(ca.ca, request());
    expect(await x509Text(leaf.certChainPem)).toContain(algorithm);
    expect((await verifyLeaf(leaf.certChainPem, "sslserver", ca)).ok).toBe(true);
  });

  it("puts the leaf first and the CA's chain after it, and records the issuer's fingerprint", async () => {
    const leaf = await issueLeaf(a.ca, request());
    expect(leaf.certChainPem.endsWith(a.ca.chainPem)).toBe(true);
    expect(leaf.certChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(leaf.issuerFingerprint).toBe(a.ca.fingerprint);
  });

  it.each<[string, KeySpec]>([
    ["ECDSA P-256", { algorithm: "ECDSA", size: 256 }],
    ["Ed25519", { algorithm: "Ed25519" }],
  ])(
    "issues later %s leaves of one shape from its template with their own serial, validity, key, key id and names",
    async (_, spec) => {
      const [k1, k2] = await Promise.all([generateKey(spec), generateKey(spec)]);
      const first = await issueLeaf(a.ca, request({ publicKeyPem: k1.publicKeyPem }));
      const at = new Date(T0.getTime() + 3_600_000);
      const names = {
        dnsNames: ["web-7f9c4d5b8-x2x9z.payments.shop.svc"],
        ipAddresses: ["10.1.0.42"],
      };
      const later = await issueLeaf(
        a.ca,
        request({ publicKeyPem: k2.publicKeyPem, now: at, ...names }),
      );
      const leafPem = firstPem(later.certChainPem);
      const native = new X509Certificate(leafPem);
      expect(native.verify(createPublicKey(a.boot.intermediate.certPem))).toBe(true);
      expect(native.publicKey.export({ type: "spki", format: "pem" })).toBe(k2.publicKeyPem);
      expect(later.serialHex).not.toBe(first.serialHex);
      expect(native.serialNumber.toLowerCase()).toBe(later.serialHex);
      expect(new Date(native.validFrom)).toEqual(new Date(at.getTime() - 5 * 60_000));
      expect(new Date(native.validTo)).toEqual(new Date(at.getTime() + DAY));
      const der = new Uint8Array(native.raw);
      const reencoded = new Uint8Array(pkijs.Certificate.fromBER(der).toSchema(true).toBER());
      expect(Buffer.from(reencoded).equals(Buffer.from(der))).toBe(true);
      const spki = createPublicKey(k2.publicKeyPem).export({ type: "spki", format: "der" });
      const ski = new x509.X509Certificate(der).getExtension(x509.SubjectKeyIdentifierExtension);
      const bits = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki)).subjectPublicKey.valueBlock;
      expect(ski?.keyId).toBe(createHash("sha1").update(bits.valueHexView).digest("hex"));
      expect(native.subjectAltName).toBe(
        "URI:spiffe://cluster.local/ns/shop/sa/payments, DNS:web-7f9c4d5b8-x2x9z.payments.shop.svc, IP Address:10.1.0.42",
      );
      const result = await verify({
        rootPem: a.boot.root.certPem,
        intermediatesPem: a.boot.intermediate.certPem,
        leafPem,
        purpose: "sslclient",
        at,
      });
      expect(result.ok).toBe(true);
    },
  );

  it("backdates notBefore by five minutes and keeps whole seconds", async () => {
    const now = new Date(T0.getTime() + 1_234);
    const leaf = await issueLeaf(a.ca, request({ now, durationMs: 60 * 60 * 1000 }));
    expect(leaf.notBefore).toEqual(new Date(T0.getTime() + 1_000 - 5 * 60 * 1000));
    expect(leaf.notAfter).toEqual(new Date(T0.getTime() + 1_000 + 60 * 60 * 1000));
  });

  it("caps notAfter at the issuer's notAfter", async () => {
    const now = new Date(a.ca.notAfter.getTime() - DAY);
    const leaf = await issueLeaf(a.ca, request({ now, durationMs: 30 * DAY }));
    expect(leaf.notAfter).toEqual(a.ca.notAfter);
    const text = await x509Text(leaf.certChainPem);
    const notAfter = /Not After : (.+)\n/.exec(text)?.[1];
    expect(new Date(notAfter ?? "")).toEqual(a.ca.notAfter);
  });

  it("gives every leaf a different positive serial of 126 random bits", async () => {
    const leaves = await Promise.all(Array.from({ length: 20 }, () => issueLeaf(a.ca, request())));
    const serials = leaves.map((l) => l.serialHex);
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
    const text = await x509Text(leaves[0]?.certChainPem ?? "");
    expect(text.replace(/[\s:]/g, "")).toContain(`SerialNumber${serials[0]}`);
    // They were signed concurrently, sharing the CA's cached extensions: every one must verify.
    const results = await Promise.all(leaves.map((l) => verifyLeaf(l.certChainPem, "sslserver")));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it("leaves extendedKeyUsage out when no TLS usage is requested, and keyEncipherment off EC keys", async () => {
    const leaf = await issueLeaf(
      a.ca,
      request({ usages: ["digital signature", "key encipherment"] }),
    );
    const text = await x509Text(leaf.certChainPem);
    expect(text).not.toContain("Extended Key Usage");
    expect(text).toContain("Key Usage: critical\n                Digital Signature\n");
  });

  const forged: [string, SanEntry[], boolean][] = [
    [
      "an allowed SPIFFE ID and DNS name (the control case)",
      [
        { type: "uri", value: spiffeId },
        { type: "dns", value: "api.shop.svc" },
      ],
      true,
    ],
    [
      "a SPIFFE ID in another trust domain",
      [{ type: "uri", value: "spiffe://evil.example/ns/shop/sa/payments" }],
      false,
    ],
    [
      "a SPIFFE ID in a subdomain of the trust domain",
      [{ type: "uri", value: "spiffe://x.cluster.local/ns/shop/sa/payments" }],
      false,
    ],
    [
      "a DNS name outside the permitted domains",
      [
        { type: "uri", value: spiffeId },
        { type: "dns", value: "payments.example.com" },
      ],
      false,
    ],
  ];

  it.each(forged)(
    "is backed by openssl: a leaf with %s, signed by the intermediate bypassing issueLeaf, verifies only inside the name constraints",
    async (_, sans, accepted) => {
      const leafPem = await forgeCertificate({
        issuer: a.boot.intermediate,
        subjectKey: key,
        sans,
        notBefore: new Date(T0.getTime() - DAY),
        notAfter: new Date(T0.getTime() + DAY),
      });
      const result = await verifyLeaf(leafPem, "sslserver");
      expect(result.ok).toBe(accepted);
      if (!accepted) expect(result.output).toMatch(/name constraint|permitted subtree violation/i);
    },
  );

  it.each<[string, Partial<LeafRequest>, string]>([
    [
      "a SPIFFE ID in another trust domain",
      { spiffeId: "spiffe://evil.example/ns/shop/sa/payments" },
      "URI spiffe://evil.example",
    ],
    [
      "a DNS name outside the permitted domains",
      { dnsNames: ["payments.example.com"] },
      "DNS name payments.example.com",
    ],
  ])("refuses %s before signing, with NameConstraintViolationError", async (_, change, text) => {
    const err = await issueLeaf(a.ca, request(change)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NameConstraintViolationError);
    expect((err as MeshIdError).message).toContain(text);
    expect((err as MeshIdError).message).toContain("cluster.local");
  });

  it.each<[string, () => Promise<Partial<LeafRequest>>, new (m: string) => MeshIdError]>([
    [
      "a SPIFFE ID without the spiffe scheme",
      async () => ({ spiffeId: "https://cluster.local/ns/a/sa/b" }),
      InvalidLeafRequestError,
    ],
    [
      "a SPIFFE ID with an empty path segment",
      async () => ({ spiffeId: "spiffe://cluster.local/ns//sa/b" }),
      InvalidLeafRequestError,
    ],
    [
      "a SPIFFE ID with an upper-case trust domain",
      async () => ({ spiffeId: "spiffe://Cluster.local/ns/a" }),
      InvalidLeafRequestError,
    ],
    [
      "a DNS name with an underscore",
      async () => ({ dnsNames: ["bad_name.shop.svc"] }),
      InvalidLeafRequestError,
    ],
    [
      "an IP address out of range",
      async () => ({ ipAddresses: ["10.0.0.256"] }),
      InvalidLeafRequestError,
    ],
    [
      "an unknown usage",
      async () => ({ usages: ["code signing" as never] }),
      InvalidLeafRequestError,
    ],
    ["a zero duration", async () => ({ durationMs: 0 }), InvalidLeafRequestError],
    [
      "a duration that is not a number",
      async () => ({ durationMs: Number.NaN }),
      InvalidLeafRequestError,
    ],
    ["a public key that is not PEM", async () => ({ publicKeyPem: "garbage" }), PemMalformedError],
    [
      "a private key instead of a public key",
      async () => ({ publicKeyPem: key.privateKeyPem }),
      PemMalformedError,
    ],
    [
      "an RSA 1024 public key",
      async () => ({ publicKeyPem: (await oddKey("rsa1024")).publicKeyPem }),
      WeakKeyError,
    ],
    [
      "a time after the CA expired",
      async () => ({ now: new Date(a.ca.notAfter.getTime() + 1) }),
      CaExpiredError,
    ],
    [
      "a time before the CA is valid",
      async () => ({ now: new Date(a.ca.notBefore.getTime() - 1) }),
      CaNotYetValidError,
    ],
  ])(
    "refuses a request with %s, with its own typed error and no certificate",
    async (_, change, errorClass) => {
      const req = request(await change());
      const outcome = await issueLeaf(a.ca, req).then(
        (leaf) => ({ leaf, err: undefined }),
        (err: unknown) => ({ leaf: undefined, err }),
      );
      expect(outcome.leaf).toBeUndefined();
      expect(outcome.err).toBeInstanceOf(errorClass);
    },
  );

  it("refuses a SigningCa that loadSigningCa did not make", async () => {
    const fake: SigningCa = { ...a.ca };
    await expect(issueLeaf(fake, request())).rejects.toThrow(TypeError);
  });
});
