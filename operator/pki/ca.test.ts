import { bootstrapCa, type BootstrapCaOptions, signIntermediate } from "./ca";
import { InvalidCaConfigError, InvalidKeySpecError } from "./errors";
import { generateKey, type KeySpec } from "./keys";
import { issueLeaf } from "./issue";
import { parseCertificates } from "./pem";
import { loadSigningCa } from "./signing-ca";
import { DAY, newTestCa, rootCaOf, spiffeId, T0 } from "./testing/fixtures";
import { firstPem, verify, x509Text } from "./testing/openssl";

const base: BootstrapCaOptions = {
  trustDomain: "cluster.local",
  clusterDomain: "cluster.local",
  dnsSuffixes: ["svc"],
  now: T0,
};

describe("bootstrapCa", () => {
  it("creates a self-signed P-384 root and a P-256 intermediate that openssl verifies", async () => {
    const { boot } = await newTestCa();
    const result = await verify({
      rootPem: boot.root.certPem,
      intermediatesPem: boot.root.certPem,
      leafPem: boot.intermediate.certPem,
      at: T0,
    });
    expect(result.output).toContain("OK");
    expect(result.ok).toBe(true);
    const root = await x509Text(boot.root.certPem);
    expect(root).toContain("NIST CURVE: P-384");
    expect(root).toMatch(/Issuer: O = meshid, OU = cluster.local, CN = meshid root CA/);
    expect(root).toMatch(/Subject: O = meshid, OU = cluster.local, CN = meshid root CA/);
    expect(root).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/);
    expect(root).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(root).toContain("ecdsa-with-SHA384");
  });

  it("fences the intermediate in: pathlen 0, keyCertSign, key identifiers and name constraints", async () => {
    const boot = await bootstrapCa({ ...base, dnsSuffixes: ["svc", "example.com"] });
    const text = await x509Text(boot.intermediate.certPem);
    expect(text).toContain("NIST CURVE: P-256");
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain("X509v3 Subject Key Identifier");
    expect(text).toContain("X509v3 Authority Key Identifier");
    expect(text).toMatch(
      /Name Constraints: critical\s+Permitted:\s+URI:cluster.local\s+DNS:cluster.local\s+DNS:svc\s+DNS:example.com\s/,
    );
    const rootSki = /Subject Key Identifier:\s+(\S+)/.exec(await x509Text(boot.root.certPem))?.[1];
    const aki = /Authority Key Identifier:\s+(?:keyid:)?(\S+)/.exec(text)?.[1];
    expect(aki).toBe(rootSki);
  });

  it("sets lifetimes from now: backdated 5 minutes, 10 years for the root, 1 year for the intermediate", async () => {
    const boot = await bootstrapCa(base);
    const [root] = parseCertificates(boot.root.certPem, "root");
    const [intermediate] = parseCertificates(boot.intermediate.certPem, "intermediate");
    expect(root?.cert.notBefore).toEqual(new Date(T0.getTime() - 5 * 60 * 1000));
    expect(root?.cert.notAfter).toEqual(new Date(T0.getTime() + 3650 * DAY));
    expect(intermediate?.cert.notAfter).toEqual(new Date(T0.getTime() + 365 * DAY));
  });

  it("never lets the intermediate outlive the root", async () => {
    const boot = await bootstrapCa({
      ...base,
      rootValidityMs: 30 * DAY,
      intermediateValidityMs: 365 * DAY,
    });
    const [root] = parseCertificates(boot.root.certPem, "root");
    const [intermediate] = parseCertificates(boot.intermediate.certPem, "intermediate");
    expect(intermediate?.cert.notAfter).toEqual(root?.cert.notAfter);
  });

  it.each<[string, KeySpec, KeySpec, RegExp]>([
    [
      "an RSA 2048 root signs with sha256WithRSAEncryption",
      { algorithm: "RSA" },
      { algorithm: "ECDSA" },
      /sha256WithRSAEncryption/,
    ],
    [
      "a P-256 root signs with ecdsa-with-SHA256",
      { algorithm: "ECDSA", size: 256 },
      { algorithm: "ECDSA" },
      /ecdsa-with-SHA256/,
    ],
    [
      "an Ed25519 root signs with ED25519",
      { algorithm: "Ed25519" },
      { algorithm: "ECDSA" },
      /Signature Algorithm: ED25519/,
    ],
    [
      "an Ed25519 intermediate issues leaves openssl accepts",
      { algorithm: "ECDSA", size: 384 },
      { algorithm: "Ed25519" },
      /ecdsa-with-SHA384/,
    ],
    [
      "a P-384 intermediate issues leaves openssl accepts",
      { algorithm: "ECDSA", size: 384 },
      { algorithm: "ECDSA", size: 384 },
      /ecdsa-with-SHA384/,
    ],
    [
      "an RSA 3072 intermediate issues leaves openssl accepts",
      { algorithm: "ECDSA", size: 384 },
      { algorithm: "RSA", size: 3072 },
      /ecdsa-with-SHA384/,
    ],
  ])(
    "%s",
    async (_, rootKey, intermediateKey, intermediateSignature) => {
      const { boot, ca } = await newTestCa({ rootKey, intermediateKey });
      expect(await x509Text(boot.intermediate.certPem)).toMatch(intermediateSignature);
      const key = await generateKey({ algorithm: "ECDSA" });
      const leaf = await issueLeaf(ca, {
        publicKeyPem: key.publicKeyPem,
        spiffeId,
        dnsNames: ["payments.shop.svc"],
        ipAddresses: [],
        usages: ["server auth"],
        durationMs: DAY,
        now: T0,
      });
      const result = await verify({
        rootPem: boot.root.certPem,
        intermediatesPem: boot.intermediate.certPem,
        leafPem: firstPem(leaf.certChainPem),
        purpose: "sslserver",
        at: T0,
      });
      expect(result.output).toContain("OK");
      expect(result.ok).toBe(true);
    },
    20_000,
  );

  it("creates an intermediate that loads as a signing CA", async () => {
    const boot = await bootstrapCa(base);
    const ca = await loadSigningCa({
      certPem: boot.intermediate.certPem,
      keyPem: boot.intermediate.keyPem,
      rootsPem: boot.root.certPem,
      now: T0,
    });
    expect(ca.keySpec).toEqual({ algorithm: "ECDSA", size: 256 });
  });

  it.each<[string, Partial<BootstrapCaOptions>, new (m: string) => Error]>([
    ["an upper-case trust domain", { trustDomain: "Cluster.Local" }, InvalidCaConfigError],
    ["a trust domain with a path", { trustDomain: "cluster.local/x" }, InvalidCaConfigError],
    ["an empty trust domain", { trustDomain: "" }, InvalidCaConfigError],
    ["a cluster domain with a space", { clusterDomain: "cluster local" }, InvalidCaConfigError],
    ["a wildcard DNS suffix", { dnsSuffixes: ["*.svc"] }, InvalidCaConfigError],
    ["a zero root lifetime", { rootValidityMs: 0 }, InvalidCaConfigError],
    ["a fractional intermediate lifetime", { intermediateValidityMs: 1.5 }, InvalidCaConfigError],
    ["an invalid date as now", { now: new Date("nonsense") }, InvalidCaConfigError],
    ["an RSA 1024 root key", { rootKey: { algorithm: "RSA", size: 1024 } }, InvalidKeySpecError],
  ])("refuses %s", async (_, change, errorClass) => {
    await expect(bootstrapCa({ ...base, ...change })).rejects.toBeInstanceOf(errorClass);
  });
});

describe("signIntermediate", () => {
  it("signs a successor intermediate with the same root and fences, that openssl verifies and that signs leaves a peer of the old one trusts", async () => {
    const boot = await bootstrapCa(base);
    const root = await rootCaOf(boot);
    const later = new Date(T0.getTime() + 200 * DAY);
    const next = await signIntermediate(root, {
      ...base,
      now: later,
      intermediateValidityMs: 365 * DAY,
    });
    expect(next.certPem).not.toBe(boot.intermediate.certPem);
    const checked = await verify({
      rootPem: boot.root.certPem,
      intermediatesPem: boot.root.certPem,
      leafPem: next.certPem,
      at: later,
    });
    expect(checked.ok).toBe(true);
    const text = await x509Text(next.certPem);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(
      /Name Constraints: critical\s+Permitted:\s+URI:cluster.local\s+DNS:cluster.local\s+DNS:svc\s/,
    );
    const [cert] = parseCertificates(next.certPem, "next");
    expect(cert?.cert.notBefore).toEqual(new Date(later.getTime() - 5 * 60 * 1000));
    expect(cert?.cert.notAfter).toEqual(new Date(later.getTime() + 365 * DAY));

    const ca = await loadSigningCa({ ...next, rootsPem: boot.root.certPem, now: later });
    const key = await generateKey({ algorithm: "ECDSA", size: 256 });
    const leaf = await issueLeaf(ca, {
      publicKeyPem: key.publicKeyPem,
      spiffeId,
      dnsNames: ["payments.shop.svc"],
      ipAddresses: [],
      usages: ["server auth", "client auth"],
      durationMs: DAY,
      now: later,
    });
    const leafOk = await verify({
      rootPem: boot.root.certPem,
      intermediatesPem: next.certPem,
      leafPem: firstPem(leaf.certChainPem),
      at: later,
    });
    expect(leafOk.ok).toBe(true);
  });

  it("never outlives its root", async () => {
    const boot = await bootstrapCa({ ...base, rootValidityMs: 30 * DAY });
    const root = await rootCaOf(boot);
    const next = await signIntermediate(root, { ...base, now: new Date(T0.getTime() + 20 * DAY) });
    const [cert] = parseCertificates(next.certPem, "next");
    expect(cert?.cert.notAfter).toEqual(root.notAfter);
  });
});
