/**
 * A small, stable, non-cryptographic hash for names and change detection. It must stay the same
 * across releases: Secrets carry its output in annotations, and a change would re-issue every
 * certificate in a cluster. (Crypto libraries are for operator/pki/ only.)
 */

const offset = 0xcbf29ce484222325n;
const prime = 0x100000001b3n;
const mask = 0xffffffffffffffffn;

/** fnv1a64 is the 64-bit FNV-1a hash of the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = offset;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= BigInt(byte);
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, "0");
}
