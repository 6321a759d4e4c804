/**
 * Leaf templates: pkijs builds and signs the first leaf of a shape (issuer, key type, usages,
 * SANs, validity encodings), and that TBSCertificate becomes the template of every later leaf of
 * the same shape. A later leaf differs from it only in fixed-length fields — serial (always 16
 * bytes, see randomSerial), notBefore and notAfter (UTCTime or GeneralizedTime, whole seconds),
 * the public key (same algorithm identifier and length) and its subjectKeyIdentifier (SHA-1,
 * 20 bytes) — so those bytes are overwritten in a copy and the copy is signed natively. No length
 * changes, so the DER stays exactly what pkijs would have encoded for that leaf. Building the
 * template checks each field's offset is unambiguous; a shape whose fields cannot be located
 * unambiguously gets no template and every leaf of it is built by pkijs.
 */
import { createHash } from "node:crypto";

/** LeafTemplate is a signed leaf's TBSCertificate with the offsets of its per-leaf fields. */
export interface LeafTemplate {
  tbs: Uint8Array;
  serialAt: number;
  notBeforeAt: number;
  notAfterAt: number;
  spkiAt: number;
  spkiLength: number;
  keyIdAt: number;
  /** signatureAlgorithm is the DER AlgorithmIdentifier of the outer certificate. */
  signatureAlgorithm: Uint8Array;
}

/** TemplateFields are the values of the per-leaf fields of one leaf. */
export interface TemplateFields {
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Uint8Array;
  keyId: Uint8Array;
}

/** derTime encodes a whole-second date as RFC 5280 does: UTCTime until 2049, then GeneralizedTime. */
export function derTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const text = date.getUTCFullYear() < 2050 ? `${digits.slice(2)}Z` : `${digits}Z`;
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** timeShape names the encodings of a validity period, part of a template's shape. */
export function timeShape(notBefore: Date, notAfter: Date): string {
  return `${derTime(notBefore).length}/${derTime(notAfter).length}`;
}

/**
 * spkiShape is the algorithm identifier of an SPKI (hex) and the SPKI's length: two keys of one
 * shape differ only in the subjectPublicKey bits, at the same offset. Undefined if not DER.
 */
export function spkiShape(spkiDer: Uint8Array): string | undefined {
  const outer = header(spkiDer, 0);
  if (!outer || spkiDer[0] !== 0x30) return undefined;
  const alg = header(spkiDer, outer.contentAt);
  if (!alg || spkiDer[outer.contentAt] !== 0x30) return undefined;
  const algEnd = alg.contentAt + alg.length;
  return `${Buffer.from(spkiDer.subarray(outer.contentAt, algEnd)).toString("hex")}/${spkiDer.length}`;
}

/**
 * subjectKeyBits is the content of the subjectPublicKey BIT STRING after its unused-bits byte,
 * what keyIdentifier hashes. Undefined if the SPKI is not DER.
 */
export function subjectKeyBits(spkiDer: Uint8Array): Uint8Array | undefined {
  const outer = header(spkiDer, 0);
  if (!outer) return undefined;
  const alg = header(spkiDer, outer.contentAt);
  if (!alg) return undefined;
  const bitsAt = alg.contentAt + alg.length;
  const bits = header(spkiDer, bitsAt);
  if (!bits || spkiDer[bitsAt] !== 0x03) return undefined;
  return spkiDer.subarray(bits.contentAt + 1, bits.contentAt + bits.length);
}

/** fastKeyIdentifier is keyIdentifier computed from SPKI DER without parsing it into objects. */
export function fastKeyIdentifier(spkiDer: Uint8Array): Uint8Array | undefined {
  const bits = subjectKeyBits(spkiDer);
  return bits ? new Uint8Array(createHash("sha1").update(bits).digest()) : undefined;
}

function header(der: Uint8Array, at: number): { contentAt: number; length: number } | undefined {
  const first = der[at + 1];
  if (first === undefined) return undefined;
  if (first < 0x80) return { contentAt: at + 2, length: first };
  const n = first & 0x7f;
  if (n === 0 || n > 3) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) {
    const b = der[at + 2 + i];
    if (b === undefined) return undefined;
    length = length * 256 + b;
  }
  return { contentAt: at + 2 + n, length };
}

function indexOfOnce(haystack: Uint8Array, needle: Uint8Array): number | undefined {
  const buf = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const at = buf.indexOf(needle);
  if (at < 0 || buf.indexOf(needle, at + 1) >= 0) return undefined;
  return at;
}

/**
 * makeLeafTemplate locates the per-leaf fields of `tbs`, a TBSCertificate pkijs encoded with
 * `fields`, and returns it as a template; undefined when a field is not found exactly once.
 */
export function makeLeafTemplate(
  tbs: Uint8Array,
  signatureAlgorithm: Uint8Array,
  fields: TemplateFields,
): LeafTemplate | undefined {
  const serialAt = indexOfOnce(tbs, fields.serial);
  const notBeforeAt = indexOfOnce(tbs, derTime(fields.notBefore));
  const notAfterAt = indexOfOnce(tbs, derTime(fields.notAfter));
  const spkiAt = indexOfOnce(tbs, fields.spkiDer);
  const keyIdAt = indexOfOnce(tbs, fields.keyId);
  if (
    serialAt === undefined ||
    notBeforeAt === undefined ||
    notAfterAt === undefined ||
    spkiAt === undefined ||
    keyIdAt === undefined
  )
    return undefined;
  return {
    tbs: new Uint8Array(tbs),
    serialAt,
    notBeforeAt,
    notAfterAt,
    spkiAt,
    spkiLength: fields.spkiDer.length,
    keyIdAt,
    signatureAlgorithm: new Uint8Array(signatureAlgorithm),
  };
}

/**
 * signFromTemplate writes `fields` into a copy of the template and has `sign` (the issuer's
 * native signer) sign it; the result is the certificate's DER.
 */
export function signFromTemplate(
  template: LeafTemplate,
  fields: TemplateFields,
  sign: (tbs: Uint8Array) => Uint8Array,
): Uint8Array {
  if (fields.spkiDer.length !== template.spkiLength)
    throw new TypeError("the key does not fit the template");
  const tbs = new Uint8Array(template.tbs);
  tbs.set(fields.serial, template.serialAt);
  tbs.set(derTime(fields.notBefore), template.notBeforeAt);
  tbs.set(derTime(fields.notAfter), template.notAfterAt);
  tbs.set(fields.spkiDer, template.spkiAt);
  tbs.set(fields.keyId, template.keyIdAt);
  const bitString = tlv(0x03, [Uint8Array.of(0), sign(tbs)]);
  return tlv(0x30, [tbs, template.signatureAlgorithm, bitString]);
}

/** tlv encodes one DER element of `tag` around already-encoded parts. */
function tlv(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
  const head = length < 0x80 ? [tag, length] : [tag, 0x80 | lengthBytes.length, ...lengthBytes];
  const out = new Uint8Array(head.length + length);
  out.set(head, 0);
  let offset = head.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
