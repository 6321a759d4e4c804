/**
 * Leaf templates: pkijs builds and signs the first leaf of a shape (issuer, key type, usages,
 * validity encodings), and that TBSCertificate becomes the template of every later leaf of the
 * same shape. A later leaf differs from it in fixed-length fields — serial (always 16 bytes, see
 * randomSerial), notBefore and notAfter (UTCTime or GeneralizedTime, whole seconds), the public
 * key (same algorithm identifier and length) and its subjectKeyIdentifier (SHA-1, 20 bytes) —
 * which are overwritten in a copy, and in its subjectAltName, the last extension, which pkijs
 * encodes for each leaf and which is put back with the three lengths that enclose it (the
 * TBSCertificate, the [3] extensions tag, the Extensions SEQUENCE). The copy is signed natively.
 * Building a template checks that each field is found exactly once and that reassembling the
 * template's own leaf gives back pkijs's bytes; a shape that fails this gets no template, and
 * every leaf of it is built by pkijs.
 */
import { createHash } from "node:crypto";
import { derElement } from "./der";

/** LeafTemplate is a signed leaf's TBSCertificate cut where its per-leaf fields are. */
export interface LeafTemplate {
  /** head is the TBSCertificate's content before the extensions: version to public key. */
  head: Uint8Array;
  serialAt: number;
  notBeforeAt: number;
  notAfterAt: number;
  spkiAt: number;
  spkiLength: number;
  /** extensions are the DER extensions before the subjectAltName, the last one. */
  extensions: Uint8Array;
  /** keyIdAt is the subjectKeyIdentifier's offset in `extensions`. */
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
  /** subjectAltName is the DER of the leaf's subjectAltName extension. */
  subjectAltName: Uint8Array;
}

/** derTime encodes a whole-second date as RFC 5280 does: UTCTime until 2049, then GeneralizedTime. */
function derTime(date: Date): Uint8Array {
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
  const outer = element(spkiDer, 0);
  if (!outer || outer.tag !== 0x30) return undefined;
  const alg = element(spkiDer, outer.contentAt);
  if (!alg || alg.tag !== 0x30) return undefined;
  return `${Buffer.from(spkiDer.subarray(outer.contentAt, alg.end)).toString("hex")}/${spkiDer.length}`;
}

/** fastKeyIdentifier is keyIdentifier (SHA-1 of the subjectPublicKey bits) read from SPKI DER. */
export function fastKeyIdentifier(spkiDer: Uint8Array): Uint8Array | undefined {
  const outer = element(spkiDer, 0);
  const alg = outer && element(spkiDer, outer.contentAt);
  const bits = alg && element(spkiDer, alg.end);
  if (!bits || bits.tag !== 0x03) return undefined;
  const value = spkiDer.subarray(bits.contentAt + 1, bits.end);
  return new Uint8Array(createHash("sha1").update(value).digest());
}

/** element reads the DER element at `at`: its tag, where its content starts, where it ends. */
function element(
  der: Uint8Array,
  at: number,
): { tag: number; contentAt: number; end: number } | undefined {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined) return undefined;
  let contentAt = at + 2;
  let length = first;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 3) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = der[at + 2 + i];
      if (b === undefined) return undefined;
      length = length * 256 + b;
    }
    contentAt += n;
  }
  const end = contentAt + length;
  return end <= der.length ? { tag, contentAt, end } : undefined;
}

function indexOfOnce(haystack: Uint8Array, needle: Uint8Array): number | undefined {
  const buf = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const at = buf.indexOf(needle);
  if (at < 0 || buf.indexOf(needle, at + 1) >= 0) return undefined;
  return at;
}

/**
 * makeLeafTemplate cuts `tbs`, a TBSCertificate pkijs encoded with `fields` and ending in its
 * subjectAltName, into a template; undefined when a field is not found exactly once or the
 * template does not give back `tbs` for the same fields.
 */
export function makeLeafTemplate(
  tbs: Uint8Array,
  signatureAlgorithm: Uint8Array,
  fields: TemplateFields,
): LeafTemplate | undefined {
  const outer = element(tbs, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== tbs.length) return undefined;
  let at = outer.contentAt;
  let explicit: ReturnType<typeof element>;
  for (;;) {
    const e = element(tbs, at);
    if (!e) return undefined;
    if (e.tag === 0xa3) {
      explicit = e;
      break;
    }
    at = e.end;
  }
  if (explicit.end !== tbs.length) return undefined;
  const list = element(tbs, explicit.contentAt);
  if (!list || list.tag !== 0x30 || list.end !== explicit.end) return undefined;
  let last = list.contentAt;
  for (let e = element(tbs, last); e && e.end < list.end; e = element(tbs, e.end)) last = e.end;
  if (!Buffer.from(tbs.subarray(last, list.end)).equals(Buffer.from(fields.subjectAltName)))
    return undefined;
  const head = tbs.slice(outer.contentAt, at);
  const extensions = tbs.slice(list.contentAt, last);
  const serialAt = indexOfOnce(head, fields.serial);
  const notBeforeAt = indexOfOnce(head, derTime(fields.notBefore));
  const notAfterAt = indexOfOnce(head, derTime(fields.notAfter));
  const spkiAt = indexOfOnce(head, fields.spkiDer);
  const keyIdAt = indexOfOnce(extensions, fields.keyId);
  if (
    serialAt === undefined ||
    notBeforeAt === undefined ||
    notAfterAt === undefined ||
    spkiAt === undefined ||
    keyIdAt === undefined
  )
    return undefined;
  const template: LeafTemplate = {
    head,
    serialAt,
    notBeforeAt,
    notAfterAt,
    spkiAt,
    spkiLength: fields.spkiDer.length,
    extensions,
    keyIdAt,
    signatureAlgorithm: new Uint8Array(signatureAlgorithm),
  };
  const again = assemble(template, fields);
  return Buffer.from(again).equals(Buffer.from(tbs)) ? template : undefined;
}

/** assemble writes `fields` into a copy of the template: the leaf's TBSCertificate. */
function assemble(template: LeafTemplate, fields: TemplateFields): Uint8Array {
  if (fields.spkiDer.length !== template.spkiLength)
    throw new TypeError("the key does not fit the template");
  const head = new Uint8Array(template.head);
  head.set(fields.serial, template.serialAt);
  head.set(derTime(fields.notBefore), template.notBeforeAt);
  head.set(derTime(fields.notAfter), template.notAfterAt);
  head.set(fields.spkiDer, template.spkiAt);
  const extensions = new Uint8Array(template.extensions);
  extensions.set(fields.keyId, template.keyIdAt);
  const list = derElement(0x30, [extensions, fields.subjectAltName]);
  return derElement(0x30, [head, derElement(0xa3, [list])]);
}

/**
 * signFromTemplate builds the leaf's TBSCertificate from the template and has `sign` (the
 * issuer's native signer) sign it; the result is the certificate's DER.
 */
export function signFromTemplate(
  template: LeafTemplate,
  fields: TemplateFields,
  sign: (tbs: Uint8Array) => Uint8Array,
): Uint8Array {
  const tbs = assemble(template, fields);
  const bitString = derElement(0x03, [Uint8Array.of(0), sign(tbs)]);
  return derElement(0x30, [tbs, template.signatureAlgorithm, bitString]);
}
