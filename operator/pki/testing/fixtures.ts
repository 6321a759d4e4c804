/**
 * Test support: CAs and deliberately broken certificates. `forgeCertificate` signs whatever it is
 * told, bypassing every issuer-side check, so tests can prove that verifiers refuse what meshid's
 * checks would have refused. Used by tests only.
 */
import { createPrivateKey, generateKeyPair } from "node:crypto";
import * as pkijs from "pkijs";
import { bootstrapCa, type BootstrapCaOptions, type BootstrappedCa } from "../ca";
import {
  buildCertificate,
  encodeName,
  NameOid,
  publicKeyInfo,
  randomSerial,
} from "../cert-builder";
import {
  authorityKeyIdentifier,
  basicConstraints,
  keyIdentifier,
  KeyUsageBit,
  keyUsage,
  nameConstraints,
  type SanEntry,
  subjectAltName,
  subjectKeyIdentifier,
} from "../extensions";
import { type GeneratedKey, keySpecOfObject, parsePublicKey } from "../keys";
import { derToPem } from "../pem";
import { createSigner } from "../signer";
import { loadSigningCa, type SigningCa } from "../signing-ca";

/** T0 is the tests' fixed "now"; openssl is pinned to it with -attime. */
export const T0 = new Date("2026-11-01T00:00:00Z");
/** DAY is one day in milliseconds. */
export const DAY = 24 * 60 * 60 * 1000;
/** spiffeId is a well-formed SPIFFE ID in the default test trust domain. */
export const spiffeId = "spiffe://cluster.local/ns/shop/sa/payments";

/** rootCaOf loads a bootstrapped root as a signing CA, as the operator does to renew. */
export function rootCaOf(boot: BootstrappedCa, now: Date = T0): Promise<SigningCa> {
  return loadSigningCa({ ...boot.root, rootsPem: boot.root.certPem, now });
}

/** TestCa is a bootstrapped CA and its loaded intermediate. */
export interface TestCa {
  boot: BootstrappedCa;
  ca: SigningCa;
}

/** newTestCa bootstraps a CA for cluster.local (DNS: cluster.local, svc) at T0 and loads it. */
export async function newTestCa(opts: Partial<BootstrapCaOptions> = {}): Promise<TestCa> {
  const now = opts.now ?? T0;
  const boot = await bootstrapCa({
    trustDomain: "cluster.local",
    clusterDomain: "cluster.local",
    dnsSuffixes: ["svc"],
    ...opts,
    now,
  });
  const ca = await loadSigningCa({
    certPem: boot.intermediate.certPem,
    keyPem: boot.intermediate.keyPem,
    rootsPem: boot.root.certPem,
    now,
  });
  return { boot, ca };
}

/** oddKey generates keys meshid refuses to generate: RSA 1024 or secp256k1. */
export function oddKey(kind: "rsa1024" | "secp256k1"): Promise<GeneratedKey> {
  const encoding = {
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  } as const;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKeyPem: string, privateKeyPem: string): void =>
      err ? reject(err) : resolve({ publicKeyPem, privateKeyPem });
    if (kind === "rsa1024") generateKeyPair("rsa", { modulusLength: 1024, ...encoding }, done);
    else generateKeyPair("ec", { namedCurve: "secp256k1", ...encoding }, done);
  });
}

/** ForgeOptions describe a certificate to sign without any checks. */
export interface ForgeOptions {
  /** issuer signs the certificate; without it the certificate is self-signed with subjectKey. */
  issuer?: { certPem: string; keyPem: string };
  subjectKey: GeneratedKey;
  /** subjectCn gives the subject a CN; without it the subject is empty. */
  subjectCn?: string;
  ca?: boolean;
  pathLen?: number;
  /** keyUsageBits defaults to keyCertSign|cRLSign for CAs and digitalSignature otherwise; null omits it. */
  keyUsageBits?: number | null;
  sans?: SanEntry[];
  permitted?: { uriHosts: string[]; dnsDomains: string[] };
  notBefore: Date;
  notAfter: Date;
}

/** forgeCertificate signs exactly what it is given and returns the certificate PEM. */
export async function forgeCertificate(o: ForgeOptions): Promise<string> {
  const subjectName = encodeName(
    o.subjectCn === undefined ? [] : [[NameOid.commonName, o.subjectCn]],
  );
  const spki = publicKeyInfo(
    new Uint8Array(
      parsePublicKey(o.subjectKey.publicKeyPem, "subject").export({ type: "spki", format: "der" }),
    ),
  );
  const issuerKeyPem = o.issuer?.keyPem ?? o.subjectKey.privateKeyPem;
  const issuerKey = createPrivateKey(issuerKeyPem);
  let issuerName = subjectName;
  let issuerKeyId = keyIdentifier(spki);
  if (o.issuer) {
    const issuerCert = pkijs.Certificate.fromBER(
      new Uint8Array(Buffer.from(o.issuer.certPem.replace(/-----[^-]+-----|\s/g, ""), "base64")),
    );
    issuerName = new Uint8Array(issuerCert.subject.valueBeforeDecode);
    issuerKeyId = keyIdentifier(issuerCert.subjectPublicKeyInfo);
  }
  const ca = o.ca ?? false;
  const bits =
    o.keyUsageBits === undefined
      ? ca
        ? KeyUsageBit.keyCertSign | KeyUsageBit.cRLSign
        : KeyUsageBit.digitalSignature
      : o.keyUsageBits;
  const extensions = [
    basicConstraints(ca, o.pathLen),
    ...(bits === null ? [] : [keyUsage(bits)]),
    subjectKeyIdentifier(keyIdentifier(spki)),
    authorityKeyIdentifier(issuerKeyId),
    ...(o.sans ? [subjectAltName(o.sans, o.subjectCn === undefined)] : []),
    ...(o.permitted ? [nameConstraints(o.permitted)] : []),
  ];
  const signer = await createSigner(issuerKey, keySpecOfObject(issuerKey, "issuer key"));
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuerName,
      subjectName,
      notBefore: o.notBefore,
      notAfter: o.notAfter,
      publicKey: spki,
      extensions,
    },
    signer,
  );
  return derToPem(der);
}
