/**
 * loadSigningCa turns CA PEMs (from a bootstrap-mode or a user-supplied Secret) into a SigningCa,
 * validating everything a verifier would check before a single leaf is signed. The private key is
 * imported once and kept out of the object's own properties, so logging a SigningCa or putting it
 * in an error never exposes key material.
 */
import { createPublicKey } from "node:crypto";
import * as pkijs from "pkijs";
import { assertCaCertificate, assertPathLen, assertValidAt, buildPath } from "./chain";
import { KeyMismatchError } from "./errors";
import { keyIdentifier } from "./extensions";
import { assertStrongKey, type KeySpec, keySpecOfObject, parsePrivateKey } from "./keys";
import { type NameConstraintSet, readNameConstraints } from "./name-constraints";
import { parseCertificates, sha256Hex } from "./pem";
import { createSigner, type Signer } from "./signer";
import { x509 } from "./x509";

/** LoadSigningCaOptions are the PEMs of a CA Secret and the time of loading. */
export interface LoadSigningCaOptions {
  /** certPem is the issuing CA certificate, optionally followed by further intermediates. */
  certPem: string;
  /** keyPem is the issuing CA's private key (PKCS#8, or PKCS#1/SEC1). */
  keyPem: string;
  /** rootsPem holds one or more trusted root certificates. */
  rootsPem: string;
  now: Date;
}

/** SigningCa is a validated CA, ready to sign leaves with issueLeaf. */
export interface SigningCa {
  /** fingerprint is the lower-case hex SHA-256 of the issuing certificate's DER. */
  readonly fingerprint: string;
  /** subject is the issuing certificate's subject, for logs and messages. */
  readonly subject: string;
  readonly keySpec: KeySpec;
  readonly notBefore: Date;
  /** notAfter is when the chain stops verifying: the earliest notAfter on the path to the root. */
  readonly notAfter: Date;
  /** chainPem is the issuing certificate and the intermediates above it, without the root. */
  readonly chainPem: string;
  /** trustBundlePem is every supplied root, for ca.crt of issued Secrets. */
  readonly trustBundlePem: string;
}

/** IssuerState is what signing needs, kept beside (not inside) the SigningCa. */
export interface IssuerState {
  signer: Signer;
  subjectName: Uint8Array;
  keyId: Uint8Array;
  nameConstraints: NameConstraintSet[];
}

const issuers = new WeakMap<SigningCa, IssuerState>();

/** issuerStateOf returns the signing state of a SigningCa made by loadSigningCa. */
export function issuerStateOf(ca: SigningCa): IssuerState {
  const state = issuers.get(ca);
  if (state === undefined) throw new TypeError("SigningCa objects come from loadSigningCa only.");
  return state;
}

/**
 * loadSigningCa validates, in this order, and throws the first failure as its typed error:
 * PEMs parse (PemMalformed); keys are supported and strong (UnsupportedKey, WeakKey); the key
 * matches the certificate (KeyMismatch); CA flag (NotACa); keyCertSign (MissingKeyCertSign);
 * validity at `now` (CaExpired, CaNotYetValid); the chain reaches a root with valid signatures
 * (ChainIncomplete); pathLenConstraint (PathLenViolation). A root certificate itself may be
 * loaded as a signing CA (with itself among the roots).
 */
export async function loadSigningCa(opts: LoadSigningCaOptions): Promise<SigningCa> {
  const chain = parseCertificates(opts.certPem, "the CA certificate (tls.crt)");
  const privateKey = parsePrivateKey(opts.keyPem, "the CA private key (tls.key)");
  const roots = parseCertificates(opts.rootsPem, "the trusted roots (ca.crt)");
  const issuing = chain[0];
  if (issuing === undefined) throw new TypeError("parseCertificates returns at least one");
  const role = "the issuing CA certificate";

  const keySpec = keySpecOfObject(privateKey, "the CA private key (tls.key)");
  assertStrongKey(keySpec, "the CA private key (tls.key)");
  if (!createPublicKey(privateKey).equals(issuing.native.publicKey)) {
    throw new KeyMismatchError(
      `The CA private key (tls.key) does not belong to ${role} "${issuing.cert.subject}" (tls.crt); ` +
        "put the certificate's own key in tls.key.",
    );
  }
  assertCaCertificate(issuing, role);
  assertValidAt(issuing, role, opts.now);
  const path = buildPath(chain, roots);
  path.forEach((c, i) =>
    assertValidAt(c, i === path.length - 1 ? "root certificate" : "CA certificate", opts.now),
  );
  assertPathLen(path);

  const rootCount = path.length > 1 ? 1 : 0;
  const chainCerts = path.slice(0, path.length - rootCount);
  const issuingPkijs = pkijs.Certificate.fromBER(new Uint8Array(issuing.der));
  const ski = issuing.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const state: IssuerState = {
    signer: await createSigner(privateKey, keySpec),
    subjectName: new Uint8Array(issuingPkijs.subject.valueBeforeDecode),
    keyId:
      ski !== undefined
        ? new Uint8Array(Buffer.from(ski, "hex"))
        : keyIdentifier(issuingPkijs.subjectPublicKeyInfo),
    nameConstraints: path.flatMap((c) => readNameConstraints(c.der, c.cert.subject) ?? []),
  };
  const ca: SigningCa = Object.freeze({
    fingerprint: sha256Hex(issuing.der),
    subject: issuing.cert.subject,
    keySpec,
    notBefore: issuing.cert.notBefore,
    notAfter: new Date(Math.min(...path.map((c) => c.cert.notAfter.getTime()))),
    chainPem: chainCerts.map((c) => c.pem).join(""),
    trustBundlePem: roots.map((c) => c.pem).join(""),
  });
  issuers.set(ca, state);
  return ca;
}
