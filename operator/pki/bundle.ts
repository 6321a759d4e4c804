/**
 * Trust bundles as sets of root certificates: merged without duplicates and reduced by
 * fingerprint, so a root rotation can add the next root to every bundle and later take the old
 * one out, keeping every other root as it was.
 */
import { parseCertificates, sha256Hex } from "./pem";

/**
 * mergeBundles is every certificate of `bundles`, each once (by DER), in order of appearance; an
 * empty bundle adds nothing.
 */
export function mergeBundles(...bundles: readonly string[]): string {
  const seen = new Set<string>();
  let out = "";
  for (const [i, pem] of bundles.entries()) {
    if (pem.trim() === "") continue;
    for (const c of parseCertificates(pem, `trust bundle ${i + 1}`)) {
      const fp = sha256Hex(c.der);
      if (seen.has(fp)) continue;
      seen.add(fp);
      out += c.pem;
    }
  }
  return out;
}

/** bundleWithout is `pem` without the certificates whose SHA-256 is in `fingerprints`. */
export function bundleWithout(pem: string, fingerprints: readonly string[]): string {
  const drop = new Set(fingerprints);
  return parseCertificates(pem, "the trust bundle")
    .filter((c) => !drop.has(sha256Hex(c.der)))
    .map((c) => c.pem)
    .join("");
}

/** bundleFingerprints lists the SHA-256 of every certificate of `pem`. */
export function bundleFingerprints(pem: string): string[] {
  return parseCertificates(pem, "the trust bundle").map((c) => sha256Hex(c.der));
}
