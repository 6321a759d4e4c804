/**
 * The one issuance sequence, for pods and for the webhook's own serving certificate: a key (new,
 * or the stored one when it may be kept), a leaf signed by the CA, and the renewal time with its
 * jitter drawn once.
 */
import {
  CLOCK_SKEW_MS,
  generateKey,
  issueLeaf,
  publicKeyFromPrivate,
  type IssuedLeaf,
  type SigningCa,
} from "../pki";
import type { Usage } from "../pki";
import { renewalTime, type KeySettings } from "../policy/issuance";

/** IssueRequest is what one certificate is issued from. */
export interface IssueRequest {
  key: Pick<KeySettings, "algorithm" | "size">;
  /** reuseKeyPem is a stored private key to certify again (rotationPolicy Never). */
  reuseKeyPem?: string;
  spiffeId: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: Usage[];
  durationMs: number;
  renewBeforeMs: number;
  now: Date;
  /** jitter in [0, 1), drawn once per issuance. */
  jitter: number;
}

/** IssuedCertificate is a signed leaf with its private key and renewal time. */
export interface IssuedCertificate {
  keyPem: string;
  leaf: IssuedLeaf;
  renewAt: Date;
}

/** issueCertificate generates (or reuses) the key, signs the leaf and sets its renewal time. */
export async function issueCertificate(
  ca: SigningCa,
  req: IssueRequest,
): Promise<IssuedCertificate> {
  let keyPem: string;
  let publicKeyPem: string;
  if (req.reuseKeyPem) {
    keyPem = req.reuseKeyPem;
    publicKeyPem = publicKeyFromPrivate(keyPem);
  } else {
    // generateKey returns both halves: parsing the private PEM again cost a tenth of a cold
    // start's CPU.
    const generated = await generateKey({
      algorithm: req.key.algorithm,
      ...(req.key.size ? { size: req.key.size } : {}),
    });
    keyPem = generated.privateKeyPem;
    publicKeyPem = generated.publicKeyPem;
  }
  const leaf = await issueLeaf(ca, {
    publicKeyPem,
    spiffeId: req.spiffeId,
    dnsNames: req.dnsNames,
    ipAddresses: req.ipAddresses,
    usages: req.usages,
    durationMs: req.durationMs,
    now: req.now,
  });
  // The life that counts starts at signing, not at the clock-skew backdate: a leaf capped by an
  // intermediate about to be renewed has less left than renewBefore, and must still renew after
  // it was issued, not before.
  const issuedAt = new Date(leaf.notBefore.getTime() + CLOCK_SKEW_MS);
  const renewAt = renewalTime(issuedAt, leaf.notAfter, req.renewBeforeMs, req.jitter);
  return { keyPem, leaf, renewAt };
}
