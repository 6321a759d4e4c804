/**
 * PEM and DER plumbing for certificates: splitting a PEM bundle into DER certificates, encoding
 * DER back to PEM, and fingerprints. Certificates cross library boundaries only as DER bytes.
 */
import { createHash, X509Certificate as NativeCertificate } from "node:crypto";
import { capitalize } from "./keys";
import { PemMalformedError } from "./errors";
import { x509 } from "./x509";

/**
 * ParsedCertificate is one certificate in the forms the package needs: DER bytes, the
 * @peculiar/x509 view for fields and extensions, and node:crypto's view for signature checks.
 */
export interface ParsedCertificate {
  der: Uint8Array;
  pem: string;
  cert: x509.X509Certificate;
  native: NativeCertificate;
}

const certBlock = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
const base64Body = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/**
 * splitCertificates returns the DER of every CERTIFICATE block in `pem`, in order; text outside
 * the blocks is ignored, as OpenSSL does. `what` names the input in errors.
 */
export function splitCertificates(pem: string, what: string): Uint8Array[] {
  const ders: Uint8Array[] = [];
  for (const match of pem.matchAll(certBlock)) {
    const body = match[1] ?? "";
    const der = base64Body.test(body) ? Buffer.from(body, "base64") : Buffer.alloc(0);
    if (der.length === 0) {
      throw new PemMalformedError(
        `Certificate ${ders.length + 1} of ${what} is not valid base64; supply PEM certificates.`,
      );
    }
    ders.push(new Uint8Array(der));
  }
  if (ders.length === 0) {
    throw new PemMalformedError(
      `${capitalize(what)} holds no PEM certificate; supply one or more "-----BEGIN CERTIFICATE-----" blocks.`,
    );
  }
  return ders;
}

/** parseCertificate reads one DER certificate; `what` names it in errors. */
export function parseCertificate(der: Uint8Array, what: string): ParsedCertificate {
  try {
    const cert = new x509.X509Certificate(new Uint8Array(der));
    const native = new NativeCertificate(der);
    return { der, pem: derToPem(der), cert, native };
  } catch (cause) {
    throw new PemMalformedError(
      `${capitalize(what)} is not a valid X.509 certificate; check that the PEM is not truncated or altered.`,
      { cause },
    );
  }
}

/** parseCertificates reads every certificate of a PEM bundle. */
export function parseCertificates(pem: string, what: string): ParsedCertificate[] {
  return splitCertificates(pem, what).map((der, i) =>
    parseCertificate(der, `certificate ${i + 1} of ${what}`),
  );
}

/** derToPem encodes DER bytes as one PEM block with 64-character lines and a final newline. */
export function derToPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}${body.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

/** sha256Hex is the lower-case hex SHA-256 of `der`: the fingerprint format used across meshid. */
export function sha256Hex(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}
