/**
 * Verifying a stored certificate instead of trusting what its Secret says about it: the leaf must
 * chain, by signature, to the roots meshid trusts, and the issuer is the certificate whose key
 * verified that signature, not whatever sits second in tls.crt. The current signing CA is always
 * offered as an issuer, so a tampered or missing chain in tls.crt cannot hide a leaf meshid issued.
 */
import { buildPath } from "./chain";
import { inspectCertificate, keyMatchesCertificate, type CertificateInfo } from "./inspect";
import { parseCertificates, type ParsedCertificate, sha256Hex } from "./pem";
import type { SigningCa } from "./signing-ca";

/**
 * ChainVerdict is where a leaf's signature leads: to the current signing CA, to another CA under
 * a root meshid trusts (an earlier intermediate), or nowhere meshid trusts.
 */
export type ChainVerdict = "current" | "other-trusted" | "untrusted";

/** StoredCertificate is what a tls.crt / tls.key pair proves, once verified. */
export type StoredCertificate =
  | {
      readable: true;
      /** keyMatches is true when tls.key is the private key of the leaf. */
      keyMatches: boolean;
      chain: ChainVerdict;
      /** issuerFingerprint is the SHA-256 of the CA certificate that signed the leaf, if trusted. */
      issuerFingerprint?: string;
      info: CertificateInfo;
    }
  | { readable: false };

interface Anchors {
  issuing: ParsedCertificate[];
  roots: ParsedCertificate[];
}

const anchorsByCa = new WeakMap<SigningCa, Anchors>();

function anchorsOf(ca: SigningCa): Anchors {
  let anchors = anchorsByCa.get(ca);
  if (!anchors) {
    anchors = {
      issuing: parseCertificates(ca.chainPem, "the CA chain"),
      roots: parseCertificates(ca.trustBundlePem, "the trust bundle"),
    };
    anchorsByCa.set(ca, anchors);
  }
  return anchors;
}

/**
 * verifyStoredCertificate parses tls.crt and tls.key and verifies the leaf's chain against `ca`.
 * It never throws: what cannot be parsed is `readable: false`.
 */
export function verifyStoredCertificate(
  tlsCrtPem: string,
  tlsKeyPem: string,
  ca: SigningCa,
): StoredCertificate {
  let certs: ParsedCertificate[];
  let info: CertificateInfo;
  let keyMatches: boolean;
  try {
    certs = parseCertificates(tlsCrtPem, "tls.crt");
    info = inspectCertificate(tlsCrtPem);
    keyMatches = keyMatchesCertificate(tlsCrtPem, tlsKeyPem);
  } catch {
    return { readable: false };
  }
  const [leaf, ...rest] = certs;
  if (!leaf) return { readable: false };
  const { issuing, roots } = anchorsOf(ca);
  // A leaf is never a CA: one that claims to be is not a certificate meshid issued.
  if (leaf.native.ca) return { readable: true, keyMatches, chain: "untrusted", info };
  let path: ParsedCertificate[];
  try {
    path = buildPath([leaf, ...issuing, ...rest], roots);
  } catch {
    return { readable: true, keyMatches, chain: "untrusted", info };
  }
  const issuer = path[1];
  if (!issuer) return { readable: true, keyMatches, chain: "untrusted", info };
  const issuerFingerprint = sha256Hex(issuer.der);
  return {
    readable: true,
    keyMatches,
    chain: issuerFingerprint === ca.fingerprint ? "current" : "other-trusted",
    issuerFingerprint,
    info,
  };
}
