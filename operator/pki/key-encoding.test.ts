import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { encodeKeyPair, framesCurve } from "./key-encoding";

function pair(curve: string): { privateKey: KeyObject; publicKey: KeyObject } {
  return curve === "Ed25519"
    ? generateKeyPairSync("ed25519")
    : generateKeyPairSync("ec", { namedCurve: curve });
}

describe("encodeKeyPair", () => {
  it.each(["P-256", "P-384", "Ed25519"])(
    "encodes 300 %s pairs exactly as OpenSSL does, as PKCS#8 and SPKI PEM with the SPKI DER",
    (curve) => {
      for (let i = 0; i < 300; i++) {
        const { privateKey, publicKey } = pair(curve);
        const encoded = encodeKeyPair(curve, privateKey, publicKey);
        expect(encoded.privateKeyPem).toBe(
          privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        );
        expect(encoded.publicKeyPem).toBe(
          publicKey.export({ type: "spki", format: "pem" }).toString(),
        );
        expect(Buffer.from(encoded.spkiDer)).toEqual(
          publicKey.export({ type: "spki", format: "der" }),
        );
      }
      // The frames matched OpenSSL, so later pairs of the curve skip its encoders.
      expect(framesCurve(curve)).toBe(true);
    },
  );

  it("gives a key pair whose halves belong together", () => {
    const { privateKey, publicKey } = pair("P-256");
    const encoded = encodeKeyPair("P-256", privateKey, publicKey);
    const derived = createPublicKey(createPrivateKey(encoded.privateKeyPem));
    expect(derived.equals(createPublicKey(encoded.publicKeyPem))).toBe(true);
  });
});
