/**
 * Whether a pod's certificate must be (re)issued, and when to look again. A chain of pure checks
 * over gathered data, in the order of DESIGN section 4; the clock is an input.
 */
import type { KeyUsage } from "../../api/v1alpha1/types";
import { fnv1a64 } from "./hash";

/** KeySettings are the private-key settings of a MeshIdentity. */
export interface KeySettings {
  algorithm: "ECDSA" | "RSA" | "Ed25519";
  size?: number;
  rotationPolicy: "Always" | "Never";
}

/** DesiredCertificate is what the pod's certificate must contain, resolved from spec and pod. */
export interface DesiredCertificate {
  spiffeId: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: KeyUsage[];
  key: KeySettings;
  durationMs: number;
  renewBeforeMs: number;
}

/** ExistingCertificate is what the current Secret holds, as gathered from it. */
export interface ExistingCertificate {
  /** readable is false when tls.crt or tls.key is missing or cannot be parsed. */
  readable: boolean;
  keyMatches: boolean;
  issuerFingerprint?: string;
  specHash?: string;
  podUid?: string;
  notAfter?: Date;
  renewAt?: Date;
}

/** IssueReason says why a certificate is issued; it is also a metric label. */
export type IssueReason =
  | "new"
  | "unreadable"
  | "key-mismatch"
  | "pod-replaced"
  | "ca-change"
  | "spec-change"
  | "expired"
  | "renewal";

/** IssuanceDecision is either "issue now, because" or "keep it until renewAt". */
export type IssuanceDecision =
  { issue: true; reason: IssueReason } | { issue: false; renewAt: Date };

/** IssuanceContext is the state outside the Secret that the decision depends on. */
export interface IssuanceContext {
  podUid: string;
  caFingerprint: string;
  now: Date;
}

/**
 * specHash identifies the inputs whose change requires a new certificate: SANs, usages and key
 * settings. Lifetimes are left out on purpose: a new duration applies at the next renewal.
 */
export function specHash(d: DesiredCertificate): string {
  const canonical = JSON.stringify({
    spiffeId: d.spiffeId,
    dnsNames: [...d.dnsNames].sort(),
    ipAddresses: [...d.ipAddresses].sort(),
    usages: [...d.usages].sort(),
    key: { algorithm: d.key.algorithm, size: d.key.size ?? null },
  });
  return fnv1a64(canonical);
}

/** decideIssuance applies the triggers of DESIGN section 4 in order; the first that holds wins. */
export function decideIssuance(
  desired: DesiredCertificate,
  existing: ExistingCertificate | undefined,
  ctx: IssuanceContext,
): IssuanceDecision {
  if (!existing) return { issue: true, reason: "new" };
  if (!existing.readable || !existing.notAfter) return { issue: true, reason: "unreadable" };
  if (!existing.keyMatches) return { issue: true, reason: "key-mismatch" };
  if (existing.podUid !== ctx.podUid) return { issue: true, reason: "pod-replaced" };
  if (existing.issuerFingerprint !== ctx.caFingerprint) return { issue: true, reason: "ca-change" };
  if (existing.specHash !== specHash(desired)) return { issue: true, reason: "spec-change" };
  if (existing.notAfter.getTime() <= ctx.now.getTime()) return { issue: true, reason: "expired" };
  if (!existing.renewAt || existing.renewAt.getTime() <= ctx.now.getTime()) {
    return { issue: true, reason: "renewal" };
  }
  return { issue: false, renewAt: existing.renewAt };
}

/** maxJitterFraction is the largest share of renewBefore that jitter moves renewal earlier. */
export const maxJitterFraction = 0.1;

/**
 * renewalTime is notAfter - renewBefore - jitter, where `jitter` in [0, 1) is drawn once by the
 * caller at issuance and scaled to 0-10% of renewBefore. When the certificate is shorter than
 * renewBefore (capped by the CA's notAfter), it renews after two thirds of its actual life, so a
 * short certificate never renews in a loop.
 */
export function renewalTime(
  notBefore: Date,
  notAfter: Date,
  renewBeforeMs: number,
  jitter: number,
): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const before = renewBeforeMs < lifetime ? renewBeforeMs : lifetime / 3;
  const j = Math.min(Math.max(jitter, 0), 1) * maxJitterFraction * before;
  return new Date(Math.round(notAfter.getTime() - before - j));
}

/** minRequeueMs is the shortest delay a reconcile asks for: never zero or negative. */
export const minRequeueMs = 1_000;

/** requeueDelay is how long to wait until `at`, at least minRequeueMs. */
export function requeueDelay(at: Date, now: Date): number {
  return Math.max(at.getTime() - now.getTime(), minRequeueMs);
}
