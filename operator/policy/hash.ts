/**
 * A small, stable, non-cryptographic hash for names and change detection. It must stay the same
 * across releases: Secrets carry its output in annotations, and a change would re-issue every
 * certificate in a cluster. (Crypto libraries are for operator/pki/ only.)
 */

/**
 * fnv1a64 is the 64-bit FNV-1a hash of the UTF-8 bytes of `text`, as 16 hex digits. The 64-bit
 * arithmetic runs on four 16-bit limbs: BigInt made it the operator's hottest function.
 */
export function fnv1a64(text: string): string {
  // offset basis 0xcbf29ce484222325, least significant limb first
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (const byte of Buffer.from(text, "utf8")) {
    h0 ^= byte;
    // h * 0x100000001b3 = h * 0x1b3 + (h << 40), modulo 2^64
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    let t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    t2 += t1 >>> 16;
    t3 += t2 >>> 16;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((h) => h.toString(16).padStart(4, "0")).join("");
}
