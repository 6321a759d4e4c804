/**
 * Encoding fresh EC and Ed25519 key pairs without OpenSSL's encoders. OpenSSL 3 took about
 * 150 µs to encode a P-256 pair as PKCS#8 and SPKI PEM, five times its generation; the same DER
 * is a fixed frame around the key's raw values, which the JWK export hands over in 4 µs. The
 * first pair of each curve in a process is also encoded by OpenSSL and compared byte for byte:
 * on any difference the curve is left to OpenSSL for the rest of the process.
 */
import type { KeyObject } from "node:crypto";

/** Frame is the DER around a curve's raw key values. */
interface Frame {
  /** pkcs8Head precedes the private scalar d; pkcs8Mid, for EC, precedes the point 04||x||y. */
  pkcs8Head: string;
  pkcs8Mid?: string;
  /** spkiHead precedes the point (04||x||y for EC, x for Ed25519). */
  spkiHead: string;
  /** dLength and pointLength are the fixed sizes the frame's lengths were written for. */
  dLength: number;
  pointLength: number;
}

const frames: Record<string, Frame> = {
  "P-256": {
    pkcs8Head: "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420",
    pkcs8Mid: "a14403420004",
    spkiHead: "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
    dLength: 32,
    pointLength: 64,
  },
  "P-384": {
    pkcs8Head: "3081b6020100301006072a8648ce3d020106052b8104002204819e30819b0201010430",
    pkcs8Mid: "a16403620004",
    spkiHead: "3076301006072a8648ce3d020106052b8104002203620004",
    dLength: 48,
    pointLength: 96,
  },
  Ed25519: {
    pkcs8Head: "302e020100300506032b657004220420",
    spkiHead: "302a300506032b6570032100",
    dLength: 32,
    pointLength: 32,
  },
};

/** checked records, per curve, whether this process's OpenSSL encodes exactly as the frames. */
const checked = new Map<string, boolean>();

/** EncodedKeyPair is a key pair as PEM, with the SPKI DER. */
export interface EncodedKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  spkiDer: Uint8Array;
}

/** framesCurve tells whether `curve` may be generated as bare key objects and encoded here. */
export function framesCurve(curve: string): boolean {
  return frames[curve] !== undefined && checked.get(curve) !== false;
}

/**
 * encodeKeyPair encodes a fresh pair of `curve` (P-256, P-384, Ed25519) as PKCS#8 and SPKI.
 * The first time per curve it checks itself against OpenSSL; it always returns a correct
 * encoding, OpenSSL's when the frames do not match.
 */
export function encodeKeyPair(
  curve: string,
  privateKey: KeyObject,
  publicKey: KeyObject,
): EncodedKeyPair {
  const frame = frames[curve];
  // A value of another length (a JWK that dropped a leading zero) is left to OpenSSL.
  const framed = frame && checked.get(curve) !== false ? byFrame(frame, privateKey) : undefined;
  if (framed && checked.get(curve) === true) return framed;
  const reference = {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    spkiDer: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
  };
  if (frame) {
    checked.set(
      curve,
      framed !== undefined &&
        framed.privateKeyPem === reference.privateKeyPem &&
        framed.publicKeyPem === reference.publicKeyPem,
    );
  }
  return reference;
}

function byFrame(frame: Frame, privateKey: KeyObject): EncodedKeyPair | undefined {
  const jwk = privateKey.export({ format: "jwk" });
  if (!jwk.d || !jwk.x) return undefined;
  const d = Buffer.from(jwk.d, "base64url");
  const point = jwk.y
    ? Buffer.concat([Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")])
    : Buffer.from(jwk.x, "base64url");
  if (d.length !== frame.dLength || point.length !== frame.pointLength) return undefined;
  const pkcs8 = Buffer.concat([
    Buffer.from(frame.pkcs8Head, "hex"),
    d,
    ...(frame.pkcs8Mid ? [Buffer.from(frame.pkcs8Mid, "hex"), point] : []),
  ]);
  const spki = Buffer.concat([Buffer.from(frame.spkiHead, "hex"), point]);
  return {
    privateKeyPem: pem("PRIVATE KEY", pkcs8),
    publicKeyPem: pem("PUBLIC KEY", spki),
    spkiDer: new Uint8Array(spki),
  };
}

/** pem encodes DER as OpenSSL does: base64 in lines of 64 characters. */
function pem(label: string, der: Buffer): string {
  const body = der.toString("base64").replace(/.{64}(?=.)/g, "$&\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
