/**
 * Certification-path checks for a CA meshid is about to sign with. Each check throws its own typed
 * error naming the certificate by subject. Signatures are verified by node:crypto (OpenSSL), which
 * handles every key type including Ed25519; pkijs' chain engine is not used because it rejects
 * Ed25519 and ignores pathLenConstraint, and its errors are not specific enough.
 */
import {
  CaExpiredError,
  CaNotYetValidError,
  ChainIncompleteError,
  MissingKeyCertSignError,
  NotACaError,
  PathLenViolationError,
} from "./errors";
import { assertStrongKey, capitalize, keySpecOfObject } from "./keys";
import type { ParsedCertificate } from "./pem";
import { x509 } from "./x509";

/** MAX_PATH is the longest path followed; real CA hierarchies are far shorter. */
const MAX_PATH = 8;

/** label names a certificate in messages by its subject; subjects are public, never secret. */
function label(c: ParsedCertificate, role: string): string {
  return `${role} "${c.cert.subject}"`;
}

/** assertCaCertificate checks basicConstraints CA:TRUE, keyCertSign and key strength. */
export function assertCaCertificate(c: ParsedCertificate, role: string): void {
  const bc = c.cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) {
    throw new NotACaError(
      `${capitalize(label(c, role))} is not a CA certificate (no basicConstraints CA:TRUE); ` +
        "supply a CA certificate, not a leaf.",
    );
  }
  const ku = c.cert.getExtension(x509.KeyUsagesExtension);
  if (ku === null || (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new MissingKeyCertSignError(
      `${capitalize(label(c, role))} ${ku === null ? "has no keyUsage extension" : "lacks keyUsage keyCertSign"}, ` +
        "so it may not sign certificates; re-issue it with keyUsage keyCertSign.",
    );
  }
  assertStrongKey(
    keySpecOfObject(c.native.publicKey, `the key of ${label(c, role)}`),
    `the key of ${label(c, role)}`,
  );
}

/** assertValidAt checks notBefore <= now < notAfter. */
export function assertValidAt(c: ParsedCertificate, role: string, now: Date): void {
  if (now.getTime() < c.cert.notBefore.getTime()) {
    throw new CaNotYetValidError(
      `${capitalize(label(c, role))} is not valid before ${c.cert.notBefore.toISOString()}; ` +
        "check the clocks or wait until it becomes valid.",
    );
  }
  if (now.getTime() >= c.cert.notAfter.getTime()) {
    throw new CaExpiredError(
      `${capitalize(label(c, role))} expired at ${c.cert.notAfter.toISOString()}; renew or replace it.`,
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** keyIdsAgree: the child's authority key ID is the parent's subject key ID, when both are present. */
function keyIdsAgree(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  const aki = child.cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const ski = parent.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return aki === undefined || ski === undefined || aki.toLowerCase() === ski.toLowerCase();
}

/**
 * buildPath follows issuers from chain[0] through the further certificates of `chain` to one of
 * `roots`, and returns the path: chain[0], the intermediates used, and the root. Every certificate
 * above chain[0] must be a CA with keyCertSign; certificates not on the path are left out.
 */
export function buildPath(
  chain: readonly ParsedCertificate[],
  roots: readonly ParsedCertificate[],
): ParsedCertificate[] {
  const [first] = chain;
  if (first === undefined) throw new ChainIncompleteError("The certificate chain is empty.");
  const path = [first];
  const isRoot = (c: ParsedCertificate): boolean => roots.some((r) => sameBytes(r.der, c.der));
  let current = first;
  while (!isRoot(current)) {
    if (path.length > MAX_PATH) {
      throw new ChainIncompleteError(
        `The certificate chain is longer than ${MAX_PATH}; shorten it.`,
      );
    }
    const candidates = [...chain.slice(1), ...roots].filter(
      (c) => !path.includes(c) && c.cert.subject === current.cert.issuer,
    );
    const issuer = candidates.find(
      (c) => keyIdsAgree(current, c) && current.native.verify(c.native.publicKey),
    );
    if (issuer === undefined) {
      const role = current === first ? "the issuing CA certificate" : "CA certificate";
      const why =
        candidates.length > 0
          ? `certificates named "${current.cert.issuer}" were found, but none of their keys signed it (a different root, or an altered certificate)`
          : `no certificate named "${current.cert.issuer}" is among the further certificates of the chain or the trusted roots`;
      throw new ChainIncompleteError(
        `${capitalize(label(current, role))} does not chain to a trusted root: ${why}; ` +
          "add the missing intermediates to tls.crt and the right root to ca.crt.",
      );
    }
    assertCaCertificate(
      issuer,
      isRoot(issuer) ? "root certificate" : "intermediate CA certificate",
    );
    path.push(issuer);
    current = issuer;
  }
  return path;
}

/**
 * assertPathLen enforces pathLenConstraint along the path (path[0] is the issuing CA): a CA may
 * have at most pathLen non-self-issued CA certificates below it, the issuing CA counting as one.
 */
export function assertPathLen(path: readonly ParsedCertificate[]): void {
  path.forEach((c, i) => {
    const pathLen = c.cert.getExtension(x509.BasicConstraintsExtension)?.pathLength;
    if (pathLen === undefined) return;
    const below = path.slice(0, i).filter((b) => b.cert.subject !== b.cert.issuer).length;
    if (below > pathLen) {
      throw new PathLenViolationError(
        `${label(c, "CA certificate")} allows ${pathLen} CA certificate(s) below it (pathLenConstraint) ` +
          `but has ${below}; issue the signing CA directly from a CA that allows it.`,
      );
    }
  });
}
