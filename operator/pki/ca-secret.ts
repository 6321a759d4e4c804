/**
 * The data of CA Secrets, as pure functions over a Secret's base64 `.data`. Bootstrap mode keeps
 * the root in one Secret (tls.crt = root, tls.key, ca.crt = root) and the intermediate in another
 * (tls.crt = intermediate, tls.key, ca.crt = root, and after a renewal previous.crt: the earlier
 * intermediates that a live leaf may still chain to); external mode is one Secret of the
 * intermediate's shape, tls.crt optionally followed by further intermediates.
 */
import type { BootstrappedCa, CaCredentials } from "./ca";
import { CaSecretCorruptError } from "./errors";
import { parseCertificates } from "./pem";

/** CaSecretPems are the three PEMs a CA Secret holds. */
export interface CaSecretPems {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** CaSecretData is a CA Secret's `.data`: base64 of each PEM. */
export interface CaSecretData {
  "tls.crt": string;
  "tls.key": string;
  "ca.crt": string;
}

const fields = [
  ["tls.crt", "certPem", "CERTIFICATE"],
  ["tls.key", "keyPem", "PRIVATE KEY"],
  ["ca.crt", "caPem", "CERTIFICATE"],
] as const;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** encodeCaSecretData base64-encodes the three PEMs under their Secret keys. */
export function encodeCaSecretData(pems: CaSecretPems): CaSecretData {
  const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
  return { "tls.crt": b64(pems.certPem), "tls.key": b64(pems.keyPem), "ca.crt": b64(pems.caPem) };
}

/**
 * decodeCaSecretData reads a CA Secret's `.data`; a missing, empty, non-base64 or non-PEM entry
 * throws CaSecretCorruptError naming the key. Whether the PEMs make a usable CA is
 * loadSigningCa's job.
 */
export function decodeCaSecretData(data: Record<string, string> | undefined): CaSecretPems {
  const out: Partial<CaSecretPems> = {};
  for (const [key, field, pemType] of fields) {
    const value = data?.[key];
    if (value === undefined || value === "") {
      throw new CaSecretCorruptError(
        `The CA Secret has no "${key}"; it needs tls.crt, tls.key and ca.crt. Restore it from backup ` +
          "or replace the Secret; meshid does not overwrite an existing CA Secret.",
      );
    }
    const compact = value.replace(/\s+/g, "");
    const text = base64.test(compact) ? Buffer.from(compact, "base64").toString("utf8") : "";
    if (!new RegExp(`-----BEGIN [A-Z ]*${pemType}-----`).test(text)) {
      throw new CaSecretCorruptError(
        `The CA Secret's "${key}" is not base64 of a PEM ${pemType === "CERTIFICATE" ? "certificate" : "private key"}; ` +
          "restore it from backup or replace the Secret.",
      );
    }
    out[field] = text;
  }
  return out as CaSecretPems;
}

/** bootstrapSecretData is the `.data` of the root and intermediate Secrets of a bootstrapped CA. */
export function bootstrapSecretData(ca: BootstrappedCa): {
  root: CaSecretData;
  intermediate: CaSecretData;
} {
  return {
    root: encodeCaSecretData({ ...ca.root, caPem: ca.root.certPem }),
    intermediate: encodeCaSecretData({ ...ca.intermediate, caPem: ca.root.certPem }),
  };
}

/** previousKey is the CA Secret key holding earlier intermediates after a renewal. */
const previousKey = "previous.crt";

/**
 * renewedSecretData is the `.data` of the intermediate Secret once `next` replaces `current`:
 * the new certificate and key, the same roots, and previous.crt holding the replaced
 * intermediate and every earlier one still valid at `now`. A leaf never outlives its issuer, so an
 * expired intermediate has no live leaf left and is dropped; the replaced key is not kept, as
 * nothing is signed with it again.
 */
export function renewedSecretData(
  currentData: Record<string, string> | undefined,
  next: CaCredentials,
  now: Date,
): Record<string, string> {
  const current = decodeCaSecretData(currentData);
  const earlier = currentData?.[previousKey]
    ? Buffer.from(currentData[previousKey], "base64").toString("utf8")
    : "";
  const [replaced] = parseCertificates(current.certPem, "tls.crt of the CA Secret");
  const kept = [
    ...(replaced ? [replaced] : []),
    ...(earlier ? parseCertificates(earlier, `${previousKey} of the CA Secret`) : []),
  ].filter((c) => c.cert.notAfter > now);
  return {
    ...encodeCaSecretData({ certPem: next.certPem, keyPem: next.keyPem, caPem: current.caPem }),
    ...(kept.length > 0
      ? { [previousKey]: Buffer.from(kept.map((c) => c.pem).join(""), "utf8").toString("base64") }
      : {}),
  };
}
