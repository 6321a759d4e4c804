/**
 * X.509 v3 extensions built with pkijs, DER-exact: criticality as RFC 5280 and the CA/Browser
 * baseline expect, minimal BIT STRING encodings for keyUsage, and SHA-1 key identifiers
 * (RFC 5280 section 4.2.1.2, method 1: identifiers, not a security function).
 */
import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** KeyUsageBit is the bit of each keyUsage flag, as in @peculiar/x509's KeyUsageFlags. */
export const KeyUsageBit = {
  digitalSignature: 1 << 0,
  keyEncipherment: 1 << 2,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
} as const;

/** ExtKeyUsageOid holds the extendedKeyUsage purposes meshid issues. */
export const ExtKeyUsageOid = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** SanEntry is one subjectAltName: a URI, a DNS name, or an IP address as raw bytes. */
export type SanEntry =
  | { type: "uri"; value: string }
  | { type: "dns"; value: string }
  | { type: "ip"; value: Uint8Array };

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/** basicConstraints is critical; pathLen is only written for CAs and only when given. */
export function basicConstraints(ca: boolean, pathLen?: number): pkijs.Extension {
  const value =
    ca && pathLen !== undefined
      ? new pkijs.BasicConstraints({ cA: true, pathLenConstraint: pathLen })
      : new pkijs.BasicConstraints({ cA: ca });
  return extension(pkijs.id_BasicConstraints, true, value.toSchema());
}

/** keyUsage is critical, with trailing zero bits dropped as DER requires. */
export function keyUsage(bits: number): pkijs.Extension {
  const bytes = [bits & 0xff, (bits >> 8) & 0xff].map((b) => reverseBits(b));
  while (bytes.length > 1 && bytes[bytes.length - 1] === 0) bytes.pop();
  const last = bytes[bytes.length - 1] ?? 0;
  let unusedBits = 0;
  while (unusedBits < 7 && (last & (1 << unusedBits)) === 0) unusedBits++;
  const value = new asn1js.BitString({ valueHex: new Uint8Array(bytes), unusedBits });
  return extension(pkijs.id_KeyUsage, true, value);
}

function reverseBits(byte: number): number {
  let out = 0;
  for (let i = 0; i < 8; i++) if (byte & (1 << i)) out |= 0x80 >> i;
  return out;
}

/** extKeyUsage lists purposes; not critical, the usual choice for TLS certificates. */
export function extKeyUsage(oids: readonly string[]): pkijs.Extension {
  const value = new pkijs.ExtKeyUsage({ keyPurposes: [...oids] });
  return extension(pkijs.id_ExtKeyUsage, false, value.toSchema());
}

/** generalName converts a SanEntry to pkijs; each call returns a fresh object (pkijs mutates tags). */
function generalName(entry: SanEntry): pkijs.GeneralName {
  switch (entry.type) {
    case "uri":
      return new pkijs.GeneralName({ type: 6, value: entry.value });
    case "dns":
      return new pkijs.GeneralName({ type: 2, value: entry.value });
    case "ip":
      return new pkijs.GeneralName({
        type: 7,
        value: new asn1js.OctetString({ valueHex: new Uint8Array(entry.value) }),
      });
  }
}

/** subjectAltName must be critical when the subject is empty (RFC 5280 section 4.2.1.6). */
export function subjectAltName(entries: readonly SanEntry[], critical: boolean): pkijs.Extension {
  const value = new pkijs.GeneralNames({ names: entries.map(generalName) });
  return extension(pkijs.id_SubjectAltName, critical, value.toSchema());
}

/**
 * nameConstraints permits only the given subtrees (critical, as RFC 5280 requires). For URIs a
 * constraint "td" matches the host "td" exactly; for DNS, "d" matches "d" and every name below it.
 */
export function nameConstraints(permitted: {
  uriHosts: readonly string[];
  dnsDomains: readonly string[];
}): pkijs.Extension {
  const subtrees = [
    ...permitted.uriHosts.map((value): SanEntry => ({ type: "uri", value })),
    ...permitted.dnsDomains.map((value): SanEntry => ({ type: "dns", value })),
  ].map((entry) => new pkijs.GeneralSubtree({ base: generalName(entry) }));
  const value = new pkijs.NameConstraints({ permittedSubtrees: subtrees });
  return extension(pkijs.id_NameConstraints, true, value.toSchema());
}

/** keyIdentifier is the SHA-1 of the subjectPublicKey bits of an SPKI. */
export function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  const bits = spki.subjectPublicKey.valueBlock.valueHexView;
  return new Uint8Array(createHash("sha1").update(bits).digest());
}

/** subjectKeyIdentifier is not critical. */
export function subjectKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  const value = new asn1js.OctetString({ valueHex: new Uint8Array(keyId) });
  return extension(pkijs.id_SubjectKeyIdentifier, false, value);
}

/** authorityKeyIdentifier carries only the issuer's key identifier; not critical. */
export function authorityKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  const value = new pkijs.AuthorityKeyIdentifier({
    keyIdentifier: new asn1js.OctetString({ valueHex: new Uint8Array(keyId) }),
  });
  return extension(pkijs.id_AuthorityKeyIdentifier, false, value.toSchema());
}
