import { inspect } from "node:util";
import { MeshIdError } from "../errors";
import {
  CaExpiredError,
  CaNotYetValidError,
  ChainIncompleteError,
  KeyMismatchError,
  MissingKeyCertSignError,
  NotACaError,
  PathLenViolationError,
  PemMalformedError,
  UnsupportedKeyError,
  WeakKeyError,
} from "./errors";
import { KeyUsageBit } from "./extensions";
import { issueLeaf } from "./issue";
import { generateKey, type GeneratedKey } from "./keys";
import { loadSigningCa, type LoadSigningCaOptions } from "./signing-ca";
import {
  DAY,
  forgeCertificate,
  newTestCa,
  oddKey,
  spiffeId,
  T0,
  type TestCa,
} from "./testing/fixtures";
import { firstPem, openssl, verify, withTempDir } from "./testing/openssl";

type Credentials = { certPem: string; keyPem: string };

let a: TestCa;
let b: TestCa;
let key: GeneratedKey;

beforeAll(async () => {
  [a, b, key] = await Promise.all([newTestCa(), newTestCa(), generateKey({ algorithm: "ECDSA" })]);
});

/** subCa forges a CA certificate for `key` under `issuer`, valid around T0. */
async function subCa(
  issuer: Credentials,
  cn: string,
  extra: Partial<Parameters<typeof forgeCertificate>[0]> = {},
) {
  const k = extra.subjectKey ?? (await generateKey({ algorithm: "ECDSA" }));
  const certPem = await forgeCertificate({
    issuer,
    subjectKey: k,
    subjectCn: cn,
    ca: true,
    notBefore: new Date(T0.getTime() - DAY),
    notAfter: new Date(T0.getTime() + 30 * DAY),
    ...extra,
  });
  return { certPem, keyPem: k.privateKeyPem };
}

function intermediateOf(ca: TestCa, now = T0): LoadSigningCaOptions {
  return { ...ca.boot.intermediate, rootsPem: ca.boot.root.certPem, now };
}

describe("loadSigningCa", () => {
  it("loads a bootstrapped intermediate with its fingerprint, chain and trust bundle", async () => {
    const ca = await loadSigningCa(intermediateOf(a));
    const fp = await withTempDir(async (write) =>
      openssl([
        "x509",
        "-noout",
        "-fingerprint",
        "-sha256",
        "-in",
        await write("i.pem", a.boot.intermediate.certPem),
      ]),
    );
    expect(fp.output.split("=")[1]?.trim().replace(/:/g, "").toLowerCase()).toBe(ca.fingerprint);
    expect(ca.chainPem).toBe(a.boot.intermediate.certPem);
    expect(ca.trustBundlePem).toBe(a.boot.root.certPem);
    expect(ca.notAfter).toEqual(new Date(T0.getTime() + 365 * DAY));
    expect(ca.keySpec).toEqual({ algorithm: "ECDSA", size: 256 });
  });

  it("leaves the root out of chainPem when tls.crt carries it too", async () => {
    const ca = await loadSigningCa({
      ...intermediateOf(a),
      certPem: a.boot.intermediate.certPem + a.boot.root.certPem,
    });
    expect(ca.chainPem).toBe(a.boot.intermediate.certPem);
  });

  it("loads a root as its own signing CA, as the bootstrap root Secret holds it", async () => {
    const ca = await loadSigningCa({ ...a.boot.root, rootsPem: a.boot.root.certPem, now: T0 });
    expect(ca.chainPem).toBe(a.boot.root.certPem);
    expect(ca.keySpec).toEqual({ algorithm: "ECDSA", size: 384 });
  });

  it("follows a two-level chain to the root, and its leaves pass openssl verify", async () => {
    const mid = await subCa(a.boot.root, "mid", { pathLen: 1 });
    const issuing = await subCa(mid, "issuing", { pathLen: 0 });
    const ca = await loadSigningCa({
      ...issuing,
      certPem: issuing.certPem + "\nunrelated text between blocks\n" + mid.certPem,
      rootsPem: b.boot.root.certPem + a.boot.root.certPem,
      now: T0,
    });
    expect(ca.chainPem).toBe(issuing.certPem + mid.certPem);
    expect(ca.trustBundlePem).toBe(b.boot.root.certPem + a.boot.root.certPem);
    expect(ca.notAfter).toEqual(new Date(T0.getTime() + 30 * DAY));
    const leaf = await issueLeaf(ca, {
      publicKeyPem: key.publicKeyPem,
      spiffeId,
      dnsNames: [],
      ipAddresses: [],
      usages: ["client auth"],
      durationMs: DAY,
      now: T0,
    });
    const result = await verify({
      rootPem: a.boot.root.certPem,
      intermediatesPem: ca.chainPem,
      leafPem: firstPem(leaf.certChainPem),
      purpose: "sslclient",
      at: T0,
    });
    expect(result.output).toContain("OK");
  });

  it("keeps key material out of the object, its logs and its JSON", async () => {
    const ca = await loadSigningCa(intermediateOf(a));
    const body = a.boot.intermediate.keyPem.split("\n")[1] ?? "";
    for (const text of [JSON.stringify(ca), inspect(ca, { depth: 5, showHidden: true })]) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain(body);
    }
  });

  const garbageCert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  const cases: [
    string,
    () => Promise<LoadSigningCaOptions>,
    new (m: string) => MeshIdError,
    string,
  ][] = [
    [
      "a tls.crt that is not PEM",
      async () => ({ ...intermediateOf(a), certPem: "not a certificate" }),
      PemMalformedError,
      "tls.crt",
    ],
    [
      "a tls.crt whose PEM body is not a certificate",
      async () => ({ ...intermediateOf(a), certPem: garbageCert }),
      PemMalformedError,
      "tls.crt",
    ],
    [
      "a tls.key that is not PEM",
      async () => ({ ...intermediateOf(a), keyPem: "not a key" }),
      PemMalformedError,
      "tls.key",
    ],
    [
      "a ca.crt that is not PEM",
      async () => ({ ...intermediateOf(a), rootsPem: "" }),
      PemMalformedError,
      "ca.crt",
    ],
    [
      "a key that belongs to another CA",
      async () => ({ ...intermediateOf(a), keyPem: b.boot.intermediate.keyPem }),
      KeyMismatchError,
      "does not belong",
    ],
    [
      "a leaf certificate used as the intermediate",
      async () => ({
        ...(await subCa(a.boot.root, "leaf", { ca: false })),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      NotACaError,
      "not a CA certificate",
    ],
    [
      "a CA certificate without keyCertSign",
      async () => ({
        ...(await subCa(a.boot.root, "no-certsign", {
          keyUsageBits: KeyUsageBit.digitalSignature,
        })),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      MissingKeyCertSignError,
      "lacks keyUsage keyCertSign",
    ],
    [
      "a CA certificate without keyUsage",
      async () => ({
        ...(await subCa(a.boot.root, "no-ku", { keyUsageBits: null })),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      MissingKeyCertSignError,
      "has no keyUsage",
    ],
    [
      "an expired intermediate",
      async () => intermediateOf(a, new Date(T0.getTime() + 400 * DAY)),
      CaExpiredError,
      "expired at",
    ],
    [
      "an intermediate that is not valid yet",
      async () => intermediateOf(a, new Date(T0.getTime() - DAY)),
      CaNotYetValidError,
      "not valid before",
    ],
    [
      "an intermediate whose root is not among the roots",
      async () => ({ ...intermediateOf(a), rootsPem: b.boot.root.certPem }),
      ChainIncompleteError,
      "none of their keys",
    ],
    [
      "an intermediate whose parent intermediate is missing from tls.crt",
      async () => ({
        ...(await subCa(await subCa(a.boot.root, "mid", { pathLen: 1 }), "issuing")),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      ChainIncompleteError,
      'no certificate named "CN=mid"',
    ],
    [
      "a self-signed CA that is not among the roots",
      async () => ({ ...a.boot.root, rootsPem: b.boot.root.certPem, now: T0 }),
      ChainIncompleteError,
      "does not chain",
    ],
    [
      "a CA below the pathLen 0 intermediate",
      async () => {
        const below = await subCa(a.boot.intermediate, "below");
        return {
          ...below,
          certPem: below.certPem + a.boot.intermediate.certPem,
          rootsPem: a.boot.root.certPem,
          now: T0,
        };
      },
      PathLenViolationError,
      "allows 0",
    ],
    [
      "a chain that passes through a leaf certificate",
      async () => {
        const leaf = await subCa(a.boot.root, "leaf", { ca: false });
        const below = await subCa(leaf, "below");
        return {
          ...below,
          certPem: below.certPem + leaf.certPem,
          rootsPem: a.boot.root.certPem,
          now: T0,
        };
      },
      NotACaError,
      'Intermediate CA certificate "CN=leaf"',
    ],
    [
      "an intermediate under an expired root",
      async () => {
        const rootKey = await generateKey({ algorithm: "ECDSA" });
        const root = {
          certPem: await forgeCertificate({
            subjectKey: rootKey,
            subjectCn: "old root",
            ca: true,
            notBefore: new Date(T0.getTime() - 30 * DAY),
            notAfter: new Date(T0.getTime() - DAY),
          }),
          keyPem: rootKey.privateKeyPem,
        };
        return { ...(await subCa(root, "issuing")), rootsPem: root.certPem, now: T0 };
      },
      CaExpiredError,
      'Root certificate "CN=old root"',
    ],
    [
      "an RSA 1024 intermediate",
      async () => ({
        ...(await subCa(a.boot.root, "weak", { subjectKey: await oddKey("rsa1024") })),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      WeakKeyError,
      "RSA 1024",
    ],
    [
      "a secp256k1 intermediate",
      async () => ({
        ...(await subCa(a.boot.root, "k1", { subjectKey: await oddKey("secp256k1") })),
        rootsPem: a.boot.root.certPem,
        now: T0,
      }),
      UnsupportedKeyError,
      "secp256k1",
    ],
  ];

  it.each(cases)("refuses %s with its own typed error", async (_, build, errorClass, text) => {
    const opts = await build();
    const outcome = await loadSigningCa(opts).then(
      (ca) => ({ ca, err: undefined }),
      (err: unknown) => ({ ca: undefined, err }),
    );
    expect(outcome.ca).toBeUndefined();
    expect(outcome.err).toBeInstanceOf(errorClass);
    const err = outcome.err as MeshIdError;
    expect(err.code).toBe(errorClass.name.replace(/Error$/, ""));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(text);
    expect(err.message).not.toContain("PRIVATE KEY");
  });
});
