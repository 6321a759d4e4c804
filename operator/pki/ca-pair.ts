/**
 * checkCaPair confirms, in bootstrap mode, that the root CA Secret holds the root that signed the
 * intermediate CA Secret: its certificate is among the intermediate's trusted roots, its key is
 * that certificate's key, and the intermediate's signature verifies with it. Anything else means
 * one half was replaced or restored from another CA, and nothing may be signed until a person
 * puts the pair back together.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { buildPath } from "./chain";
import type { CaSecretPems } from "./ca-secret";
import { CaPairMismatchError } from "./errors";
import { parseCertificates } from "./pem";

/** checkCaPair throws CaPairMismatchError (or a PEM error) when the two Secrets do not match. */
export function checkCaPair(
  root: CaSecretPems,
  intermediate: CaSecretPems,
  names: { root: string; intermediate: string },
): void {
  const [rootCert] = parseCertificates(root.certPem, `tls.crt of ${names.root}`);
  const trusted = parseCertificates(intermediate.caPem, `ca.crt of ${names.intermediate}`);
  const chain = parseCertificates(intermediate.certPem, `tls.crt of ${names.intermediate}`);
  if (!rootCert) throw new CaPairMismatchError(`${names.root} holds no certificate`);
  let rootKey;
  try {
    rootKey = createPublicKey(createPrivateKey({ key: root.keyPem, format: "pem" }));
  } catch {
    throw new CaPairMismatchError(`tls.key of ${names.root} is not a readable private key`);
  }
  if (!rootKey.equals(rootCert.native.publicKey))
    throw new CaPairMismatchError(
      `tls.key of ${names.root} is not the key of its certificate "${rootCert.cert.subject}"`,
    );
  if (!trusted.some((t) => Buffer.from(t.der).equals(Buffer.from(rootCert.der))))
    throw new CaPairMismatchError(
      `the root in ${names.root} ("${rootCert.cert.subject}") is not the root that ${names.intermediate} trusts (its ca.crt)`,
    );
  try {
    buildPath(chain, [rootCert]);
  } catch {
    throw new CaPairMismatchError(
      `the intermediate in ${names.intermediate} was not signed by the root in ${names.root}`,
    );
  }
}
