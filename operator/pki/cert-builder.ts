/**
 * buildCertificate assembles a TBSCertificate with pkijs from a template and has a Signer sign it.
 * Names travel as DER so an issuer name is copied byte for byte from the issuer's certificate.
 */
import { randomBytes } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { Signer } from "./signer";
import { derElement } from "./der";

/** CertificateTemplate is everything in a certificate except its signature. */
export interface CertificateTemplate {
  serial: Uint8Array;
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: pkijs.PublicKeyInfo;
  extensions: pkijs.Extension[];
}

/** CLOCK_SKEW_MS backdates notBefore so that nodes whose clocks lag accept a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** NameAttribute is one relative distinguished name: [type OID, UTF-8 value]. */
export type NameAttribute = readonly [oid: string, value: string];

/** NameOid holds the attribute types meshid writes into CA names. */
export const NameOid = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
};

/** buildCertificate returns the DER of the signed v3 certificate. */
export async function buildCertificate(
  t: CertificateTemplate,
  signer: Signer,
): Promise<Uint8Array<ArrayBuffer>> {
  return (await buildCertificateParts(t, signer)).der;
}

/** SignedParts is a signed certificate's DER with the TBSCertificate and algorithm it signed. */
export interface SignedParts {
  der: Uint8Array<ArrayBuffer>;
  tbs: Uint8Array;
  signatureAlgorithm: Uint8Array;
}

/** buildCertificateParts is buildCertificate, also returning the parts a leaf template needs. */
export async function buildCertificateParts(
  t: CertificateTemplate,
  signer: Signer,
): Promise<SignedParts> {
  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: new Uint8Array(t.serial) }),
    issuer: pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(t.issuerName)),
    subject: pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(t.subjectName)),
    notBefore: certificateTime(t.notBefore),
    notAfter: certificateTime(t.notAfter),
    subjectPublicKeyInfo: t.publicKey,
    ...(t.extensions.length > 0 ? { extensions: t.extensions } : {}),
  });
  await signer.sign(cert);
  const tbs = new Uint8Array(cert.tbsView);
  const signatureAlgorithm = new Uint8Array(cert.signatureAlgorithm.toSchema().toBER(false));
  const der = derElement(0x30, [
    tbs,
    signatureAlgorithm,
    new Uint8Array(cert.signatureValue.toBER(false)),
  ]);
  return { der, tbs, signatureAlgorithm };
}

/**
 * certificateTime encodes a validity date as RFC 5280 requires: UTCTime through 2049,
 * GeneralizedTime from 2050; callers pass whole seconds (see wholeSeconds).
 */
function certificateTime(date: Date): pkijs.Time {
  const type =
    date.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value: date });
}

/** wholeSeconds truncates a date to the second, the precision certificates carry. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** encodeName returns the DER of a Name with one attribute per RDN; no attributes is an empty Name. */
export function encodeName(attributes: readonly NameAttribute[]): Uint8Array {
  const rdns = attributes.map(
    ([type, value]) =>
      new asn1js.Set({
        value: [
          new asn1js.Sequence({
            value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Utf8String({ value })],
          }),
        ],
      }),
  );
  return new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER(false));
}

/**
 * randomSerial is 16 random bytes with the top bit cleared (a positive INTEGER) and the next bit
 * set (never zero, never a non-minimal leading zero byte): 126 bits of entropy.
 */
export function randomSerial(): Uint8Array {
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

/** publicKeyInfo parses SPKI DER for pkijs. */
export function publicKeyInfo(spkiDer: Uint8Array): pkijs.PublicKeyInfo {
  return pkijs.PublicKeyInfo.fromBER(new Uint8Array(spkiDer));
}
