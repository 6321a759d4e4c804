/**
 * The public key of a Kubernetes PodCertificateRequest: from the stub PKCS#10 request kubelet
 * sends (its signature checked again here, though the API server checked it at creation), or from
 * the deprecated pkixPublicKey with its proof of possession (a signature over the pod's UID).
 */
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { PemMalformedError, UnsupportedKeyError } from "./errors";
import { assertStrongKey, keySpecOfObject, type KeySpec } from "./keys";
import { derToPem } from "./pem";
import { x509 } from "./x509";

/** PcrKeyInput is the key material of a PodCertificateRequest's spec, base64 as on the wire. */
export interface PcrKeyInput {
  stubPKCS10Request?: string;
  pkixPublicKey?: string;
  proofOfPossession?: string;
  podUid: string;
}

/** RequestedPublicKey is the verified public key of a request and what kind of key it is. */
export interface RequestedPublicKey {
  publicKeyPem: string;
  key: KeySpec;
}

/**
 * podCertificatePublicKey returns the request's public key once its proof of possession holds.
 * Throws UnsupportedKeyError for key types meshid does not certify (P-521, weak RSA) and
 * PemMalformedError when the request carries no readable key or a signature that does not verify.
 */
export async function podCertificatePublicKey(input: PcrKeyInput): Promise<RequestedPublicKey> {
  let spkiDer: Buffer;
  if (input.stubPKCS10Request) {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(Buffer.from(input.stubPKCS10Request, "base64"));
    } catch (cause) {
      throw new PemMalformedError("The request's stubPKCS10Request is not a PKCS#10 request.", {
        cause,
      });
    }
    spkiDer = Buffer.from(csr.publicKey.rawData);
    const key = readSpki(spkiDer);
    const spec = keySpecOfObject(key, "the request's key");
    if (!(await csr.verify()))
      throw new PemMalformedError("The request's stubPKCS10Request signature does not verify.");
    return finish(spkiDer, spec);
  }
  if (!input.pkixPublicKey || !input.proofOfPossession)
    throw new PemMalformedError("The request carries neither stubPKCS10Request nor pkixPublicKey.");
  spkiDer = Buffer.from(input.pkixPublicKey, "base64");
  const key = readSpki(spkiDer);
  const spec = keySpecOfObject(key, "the request's key");
  const data = Buffer.from(input.podUid, "utf8");
  const proof = Buffer.from(input.proofOfPossession, "base64");
  const ok =
    spec.algorithm === "Ed25519"
      ? verify(null, data, key, proof)
      : spec.algorithm === "ECDSA"
        ? verify("sha256", data, key, proof)
        : verify(
            "sha256",
            data,
            {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_AUTO,
            },
            proof,
          );
  if (!ok) throw new PemMalformedError("The request's proof of possession does not verify.");
  return finish(spkiDer, spec);
}

function readSpki(der: Buffer): KeyObject {
  try {
    return createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    throw new UnsupportedKeyError("The request's public key cannot be read.");
  }
}

function finish(spkiDer: Buffer, spec: KeySpec): RequestedPublicKey {
  assertStrongKey(spec, "the request's key");
  return { publicKeyPem: derToPem(new Uint8Array(spkiDer), "PUBLIC KEY"), key: spec };
}
