/**
 * Verifying an issued certificate the way a peer would, for people inspecting it (the kubectl
 * plugin): the chain in tls.crt must lead to a root of the trust bundle through CA certificates
 * whose keys signed each link, within pathLenConstraint, and every certificate must be valid now.
 * Name constraints are not re-checked here; `openssl verify` does that in the tests.
 */
import { assertPathLen, assertValidAt, buildPath } from "./chain";
import { MeshIdError } from "../errors";
import { parseCertificates, sha256Hex, type ParsedCertificate } from "./pem";

/** CertificateSummary describes one certificate in words a person can compare. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** fingerprint is the lower-case hex SHA-256 of the DER, as in meshid.dev/issuer-fingerprint. */
  fingerprint: string;
}

/** LeafVerification is the verdict on one certificate chain. */
export interface LeafVerification {
  verified: boolean;
  /** path is the leaf, the intermediates used and the root, when a path was found. */
  path: CertificateSummary[];
  /** problem says why the chain does not verify; code is the error's stable code. */
  problem?: string;
  code?: string;
}

function summarize(c: ParsedCertificate): CertificateSummary {
  return {
    subject: c.cert.subject,
    issuer: c.cert.issuer,
    serialHex: c.cert.serialNumber.toLowerCase(),
    notBefore: c.cert.notBefore,
    notAfter: c.cert.notAfter,
    fingerprint: sha256Hex(c.der),
  };
}

/** summarizeCertificates describes every certificate of a PEM bundle; garbage throws PemMalformedError. */
export function summarizeCertificates(pem: string, what: string): CertificateSummary[] {
  return parseCertificates(pem, what).map(summarize);
}

/** verifyLeafChain verifies tls.crt (leaf first, then its chain) against `bundlePem` at `now`. */
export function verifyLeafChain(tlsCrtPem: string, bundlePem: string, now: Date): LeafVerification {
  let path: ParsedCertificate[] = [];
  try {
    const chain = parseCertificates(tlsCrtPem, "tls.crt");
    const roots = parseCertificates(bundlePem, "the trust bundle");
    path = buildPath(chain, roots);
    assertPathLen(path.slice(1));
    const [leaf, ...cas] = path;
    if (leaf && now.getTime() < leaf.cert.notBefore.getTime())
      return fail(
        path,
        "LeafNotYetValid",
        `The certificate is not valid before ${leaf.cert.notBefore.toISOString()}.`,
      );
    if (leaf && now.getTime() >= leaf.cert.notAfter.getTime())
      return fail(
        path,
        "LeafExpired",
        `The certificate expired at ${leaf.cert.notAfter.toISOString()}.`,
      );
    cas.forEach((c, i) =>
      assertValidAt(c, i === cas.length - 1 ? "root certificate" : "CA certificate", now),
    );
    return { verified: true, path: path.map(summarize) };
  } catch (err) {
    if (!(err instanceof MeshIdError)) throw err;
    return fail(path, err.code, err.message);
  }
}

function fail(path: ParsedCertificate[], code: string, problem: string): LeafVerification {
  return { verified: false, path: path.map(summarize), problem, code };
}
