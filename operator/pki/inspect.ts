/**
 * Reading back an issued certificate and key: what renewal decisions compare against the desired
 * state. Everything here is parsing; nothing is verified (the reconciler decides what to trust).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { canonicalIp } from "./ip";
import { type KeySpec, keySpecOfObject } from "./keys";
import { parseCertificate, sha256Hex, splitCertificates } from "./pem";
import { extKeyUsageOids, keyUsageBits, type Usage } from "./usages";
import { x509 } from "./x509";

/** CertificateInfo is what inspectCertificate reads from the first certificate of a tls.crt. */
export interface CertificateInfo {
  /** serialHex is the serial number as lower-case hex. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  uris: string[];
  dnsNames: string[];
  /** ipAddresses are in canonical text form (dotted quad, RFC 5952 IPv6). */
  ipAddresses: string[];
  /** extKeyUsages are the "server auth"/"client auth" purposes present. */
  extKeyUsages: Usage[];
  /** keyUsages are the "digital signature"/"key encipherment" bits present. */
  keyUsages: Usage[];
  keySpec: KeySpec;
  /** issuerFingerprint is the SHA-256 hex of the second certificate in the PEM, when there is one. */
  issuerFingerprint?: string;
}

const tlsCrt = "tls.crt";

/** inspectCertificate reads a tls.crt (leaf first); garbage throws PemMalformedError. */
export function inspectCertificate(tlsCrtPem: string): CertificateInfo {
  const ders = splitCertificates(tlsCrtPem, tlsCrt);
  const leaf = parseCertificate(ders[0] ?? new Uint8Array(), `the first certificate of ${tlsCrt}`);
  const { cert } = leaf;
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const ekus = (cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String);
  const kuFlags = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  const flagOf: Partial<Record<Usage, number>> = {
    "digital signature": x509.KeyUsageFlags.digitalSignature,
    "key encipherment": x509.KeyUsageFlags.keyEncipherment,
  };
  const issuerDer = ders[1];
  return {
    serialHex: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    uris: names.filter((n) => n.type === "url").map((n) => n.value),
    dnsNames: names.filter((n) => n.type === "dns").map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === "ip").map((n) => canonicalIp(n.value) ?? n.value),
    extKeyUsages: (Object.keys(extKeyUsageOids) as Usage[]).filter((u) =>
      ekus.includes(extKeyUsageOids[u] ?? ""),
    ),
    keyUsages: (Object.keys(keyUsageBits) as Usage[]).filter(
      (u) => (kuFlags & (flagOf[u] ?? 0)) !== 0,
    ),
    keySpec: keySpecOfObject(
      leaf.native.publicKey,
      `the key of the first certificate of ${tlsCrt}`,
    ),
    ...(issuerDer !== undefined ? { issuerFingerprint: sha256Hex(issuerDer) } : {}),
  };
}

/**
 * keyMatchesCertificate tells whether tls.key is the private key of tls.crt's first certificate.
 * A missing or unreadable key is simply not a match; an unreadable certificate throws
 * PemMalformedError, as inspectCertificate does.
 */
export function keyMatchesCertificate(tlsCrtPem: string, tlsKeyPem: string): boolean {
  const ders = splitCertificates(tlsCrtPem, tlsCrt);
  const leaf = parseCertificate(ders[0] ?? new Uint8Array(), `the first certificate of ${tlsCrt}`);
  let publicKey;
  try {
    publicKey = createPublicKey(createPrivateKey({ key: tlsKeyPem, format: "pem" }));
  } catch {
    return false;
  }
  return publicKey.equals(leaf.native.publicKey);
}
