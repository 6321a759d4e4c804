/**
 * Signer signs certificates with a CA key imported once, so issuing a leaf never re-parses the
 * key. ECDSA and RSA keys are WebCrypto CryptoKeys handed to pkijs' Certificate.sign with the hash
 * named explicitly (pkijs defaults to SHA-1). pkijs has no Ed25519 support, so for Ed25519 the
 * TBSCertificate that pkijs encodes is signed directly (PureEdDSA takes no separate hash).
 */
import { sign as nodeSign, webcrypto, type KeyObject } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { KeySpec } from "./keys";

/** Signer signs a pkijs Certificate in place: sets its algorithm identifiers and signature. */
export interface Signer {
  readonly spec: KeySpec;
  sign(cert: pkijs.Certificate): Promise<void>;
  /**
   * signNative signs already-encoded TBSCertificate bytes with node:crypto, with the same
   * algorithm `sign` writes into the certificate (DER ECDSA signatures, PKCS#1 v1.5, PureEdDSA).
   */
  signNative(tbs: Uint8Array): Uint8Array;
}

const idEd25519 = "1.3.101.112";

/** pkiEngine is the pkijs crypto engine over Node's WebCrypto, passed explicitly to every call. */
const pkiEngine = new pkijs.CryptoEngine({
  name: "node-webcrypto",
  crypto: webcrypto as unknown as Crypto,
});

/** hashFor is the signature hash for an issuer key: SHA-384 for P-384, SHA-512 for P-521. */
function hashFor(spec: KeySpec): "SHA-256" | "SHA-384" | "SHA-512" {
  if (spec.algorithm !== "ECDSA") return "SHA-256";
  if (spec.size === 384) return "SHA-384";
  return spec.size === 521 ? "SHA-512" : "SHA-256";
}

/** createSigner imports a private key for signing; `spec` must describe that key. */
export async function createSigner(privateKey: KeyObject, spec: KeySpec): Promise<Signer> {
  if (spec.algorithm === "Ed25519") return ed25519Signer(privateKey, spec);
  const hash = hashFor(spec);
  const algorithm =
    spec.algorithm === "ECDSA"
      ? { name: "ECDSA", namedCurve: `P-${spec.size ?? 256}` }
      : { name: "RSASSA-PKCS1-v1_5", hash };
  const pkcs8 = new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" }));
  const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
  return {
    spec,
    sign: (cert) => cert.sign(key, hash, pkiEngine),
    signNative: (tbs) => new Uint8Array(nodeSign(hash, tbs, privateKey)),
  };
}

function ed25519Signer(privateKey: KeyObject, spec: KeySpec): Signer {
  return {
    spec,
    sign(cert) {
      cert.signature = new pkijs.AlgorithmIdentifier({ algorithmId: idEd25519 });
      cert.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: idEd25519 });
      cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
      const signature = nodeSign(null, cert.tbsView, privateKey);
      cert.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(signature) });
      return Promise.resolve();
    },
    signNative: (tbs) => new Uint8Array(nodeSign(null, tbs, privateKey)),
  };
}
