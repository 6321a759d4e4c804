/**
 * Whether a pod's certificate must be (re)issued, and when to look again. A chain of pure checks
 * over gathered data, in the order of docs/decisions.md (Issuance); the clock is an input.
 */
import type { KeyUsage } from "../../api/v1alpha1/types";
import { fnv1a64 } from "./hash";
import { pacedDue } from "./pacing";

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

/** CertificateContents is what a certificate certifies, as compared with the desired state. */
export interface CertificateContents {
  uris: string[];
  dnsNames: string[];
  /** ipAddresses in canonical text form. */
  ipAddresses: string[];
  /** extKeyUsages are the "server auth"/"client auth" purposes present. */
  extKeyUsages: string[];
  key: { algorithm: KeySettings["algorithm"]; size?: number };
}

/**
 * ExistingCertificate is what the current Secret holds, as verified from its certificate (chain,
 * contents, dates) and its metadata (owner). Annotations are read only where they are checked
 * against the certificate (the recorded pod UID, the renewal time).
 */
export interface ExistingCertificate {
  /** readable is false when tls.crt or tls.key is missing or cannot be parsed. */
  readable: boolean;
  keyMatches: boolean;
  /** chain is where the leaf's signature leads (see pki's ChainVerdict). */
  chain?: "current" | "other-trusted" | "untrusted";
  /** ownerUid is the UID of the pod the Secret is bound to (its ownerReference). */
  ownerUid?: string;
  /** recordedPodUid is the pod UID the Secret's annotation records. */
  recordedPodUid?: string;
  contents?: CertificateContents;
  /** issuedAt is when the leaf was signed (its notBefore without the clock-skew allowance). */
  issuedAt?: Date;
  notAfter?: Date;
  renewAt?: Date;
  /** renewedFor is the renewal request this certificate was issued for, if any. */
  renewedFor?: Date;
}

/** IssueReason says why a certificate is issued; it is also a metric label. */
export type IssueReason =
  | "new"
  | "unreadable"
  | "key-mismatch"
  | "pod-replaced"
  | "invalid"
  | "ca-change"
  | "spec-change"
  | "expired"
  | "requested"
  | "renewal";

/**
 * IssuanceDecision is either "issue now, because" or "keep it until renewAt"; `paced` says the
 * certificate is due for a mass re-issue and waits for its pod's slot (progress, for metrics).
 */
export type IssuanceDecision =
  | { issue: true; reason: IssueReason; detail?: string }
  | { issue: false; renewAt: Date; paced?: PacedReason };

/** PacedReason names the mass re-issues that wait for their pod's slot: one limiter paces them all. */
export type PacedReason = "ca-change" | "spec-change" | "requested";

/** RenewRequest is a re-issue asked for by a person (`meshid.dev/renew-requested-at`). */
export interface RenewRequest {
  /** at: certificates issued before this time are re-issued. */
  at: Date;
  /** spreadMs paces a request over many pods: each pod waits its own share of this window. */
  spreadMs: number;
}

/**
 * PacedWindow paces a mass re-issue: each pod moves at its own slot of a window of `spreadMs`
 * opened at `since`. A CA change opens one when the new CA is loaded (a leaf of the previous CA,
 * still trusted, moves at its slot); a MeshIdentity spec change opens one when this replica first
 * sees the new spec (a certificate that no longer matches it moves at its slot).
 */
export interface PacedWindow {
  since: Date;
  spreadMs: number;
}

/** IssuanceContext is the state outside the Secret that the decision depends on. */
export interface IssuanceContext {
  podUid: string;
  now: Date;
  renewRequest?: RenewRequest;
  /** caChange paces `ca-change`; without it a leaf of another trusted CA is re-issued at once. */
  caChange?: PacedWindow;
  /** specChange paces `spec-change`; without it a certificate that differs is re-issued at once. */
  specChange?: PacedWindow;
}

/**
 * specHash identifies the inputs whose change requires a new certificate: SANs, usages and key
 * settings. It is recorded on each Secret for people and tools; decisions compare the certificate
 * itself (desiredContents), never this annotation.
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

const extendedUsages = new Set<string>(["server auth", "client auth"]);

/**
 * desiredContents is what a certificate issued for `d` certifies. keyUsage bits follow the key
 * type at issuance, so only the extended key usages are compared.
 */
export function desiredContents(d: DesiredCertificate): CertificateContents {
  return {
    uris: [d.spiffeId],
    dnsNames: d.dnsNames,
    ipAddresses: d.ipAddresses,
    extKeyUsages: d.usages.filter((u) => extendedUsages.has(u)),
    key: { algorithm: d.key.algorithm, ...(d.key.size ? { size: d.key.size } : {}) },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((v, i) => v === sorted[i]);
}

/** contentsDiffer names the first field in which a certificate differs from the desired one. */
function contentsDiffer(have: CertificateContents, want: CertificateContents): string | undefined {
  if (!sameSet(have.uris, want.uris)) return "URI SANs (SPIFFE ID)";
  if (!sameSet(have.dnsNames, want.dnsNames)) return "DNS names";
  if (!sameSet(have.ipAddresses, want.ipAddresses)) return "IP addresses";
  if (!sameSet(have.extKeyUsages, want.extKeyUsages)) return "usages";
  if (have.key.algorithm !== want.key.algorithm) return "key algorithm";
  if (want.key.algorithm !== "Ed25519" && have.key.size !== want.key.size) return "key size";
  return undefined;
}

/**
 * decideIssuance applies the re-issue triggers in order; the first that holds wins.
 * What the Secret claims is verified first: a certificate that does not chain to a CA meshid
 * trusts, whose recorded pod UID is not its owner's, or whose renewal time lies outside its
 * validity is `invalid` and replaced, whatever else it says.
 */
export function decideIssuance(
  desired: DesiredCertificate,
  existing: ExistingCertificate | undefined,
  ctx: IssuanceContext,
): IssuanceDecision {
  if (!existing) return { issue: true, reason: "new" };
  const { contents, notAfter, issuedAt } = existing;
  if (!existing.readable || !contents || !notAfter || !issuedAt)
    return { issue: true, reason: "unreadable" };
  if (!existing.keyMatches) return { issue: true, reason: "key-mismatch" };
  if (existing.ownerUid !== ctx.podUid) return { issue: true, reason: "pod-replaced" };
  if (existing.chain !== "current" && existing.chain !== "other-trusted")
    return {
      issue: true,
      reason: "invalid",
      detail: "the certificate does not chain to a CA meshid trusts",
    };
  if (existing.recordedPodUid !== existing.ownerUid)
    return { issue: true, reason: "invalid", detail: "the recorded pod UID is not the owner's" };
  const renewAt = existing.renewAt;
  if (
    !renewAt ||
    renewAt.getTime() <= issuedAt.getTime() ||
    renewAt.getTime() >= notAfter.getTime()
  )
    return {
      issue: true,
      reason: "invalid",
      detail: "the renewal time is not within the certificate's validity",
    };
  // Only tampering puts another identity in a pod's Secret (a pod's namespace, service account
  // and the trust domain never change under it): it is replaced at once, never paced.
  if (!sameSet(contents.uris, [desired.spiffeId]))
    return {
      issue: true,
      reason: "invalid",
      detail: "the certificate certifies another SPIFFE ID than the pod's",
    };
  const now = ctx.now.getTime();
  const caDue =
    existing.chain === "other-trusted" && ctx.caChange
      ? pacedDue(ctx.caChange.since, ctx.caChange.spreadMs, ctx.podUid)
      : undefined;
  if (existing.chain === "other-trusted" && (!caDue || caDue.getTime() <= now))
    return { issue: true, reason: "ca-change" };
  if (notAfter.getTime() <= now) return { issue: true, reason: "expired" };
  const differs = contentsDiffer(contents, desiredContents(desired));
  const specDue =
    differs && ctx.specChange
      ? pacedDue(ctx.specChange.since, ctx.specChange.spreadMs, ctx.podUid)
      : undefined;
  if (differs && (!specDue || specDue.getTime() <= now))
    return { issue: true, reason: "spec-change", detail: `${differs} differ from the spec` };
  let next = renewAt;
  let paced: PacedReason | undefined;
  for (const [due, reason] of [
    [caDue, "ca-change"],
    [specDue, "spec-change"],
  ] as const) {
    if (due && due < next) next = due;
    if (due) paced ??= reason;
  }
  const request = ctx.renewRequest;
  // Times are whole seconds: a certificate of the request's own second is renewed too, unless it
  // was issued for that very request.
  const answered = existing.renewedFor !== undefined && existing.renewedFor >= (request?.at ?? now);
  if (request && issuedAt.getTime() <= request.at.getTime() && !answered) {
    const due = pacedDue(request.at, request.spreadMs, ctx.podUid);
    if (due.getTime() <= now) return { issue: true, reason: "requested" };
    if (due < next) next = due;
    paced ??= "requested";
  }
  if (renewAt.getTime() <= now) return { issue: true, reason: "renewal" };
  return { issue: false, renewAt: next, ...(paced ? { paced } : {}) };
}

/**
 * keyMayBeKept tells whether a stored key may be certified again: rotationPolicy Never, and a
 * readable key that matches a certificate meshid issued for this identity (a key copied from
 * another pod's Secret is never certified for this one), of the algorithm and size wanted. A key
 * from a Secret meshid did not issue may be known to whoever wrote it.
 */
export function keyMayBeKept(
  existing: ExistingCertificate | undefined,
  want: KeySettings,
  spiffeId: string,
): boolean {
  const key = existing?.contents?.key;
  return (
    want.rotationPolicy === "Never" &&
    sameSet(existing?.contents?.uris ?? [], [spiffeId]) &&
    existing?.readable === true &&
    existing.keyMatches &&
    (existing.chain === "current" || existing.chain === "other-trusted") &&
    key?.algorithm === want.algorithm &&
    (want.algorithm === "Ed25519" || key.size === want.size)
  );
}

/** maxJitterFraction is the largest share of renewBefore that jitter moves renewal earlier. */
const maxJitterFraction = 0.1;

/**
 * renewalTime is notAfter - renewBefore - jitter, where `jitter` in [0, 1) is drawn once by the
 * caller at issuance and scaled to 0-10% of renewBefore. When the certificate's life from
 * `issuedAt` (signing, not the backdated notBefore) is shorter than renewBefore (capped by the CA's
 * notAfter), it renews after two thirds of that life, so a short certificate never renews in a loop.
 */
export function renewalTime(
  issuedAt: Date,
  notAfter: Date,
  renewBeforeMs: number,
  jitter: number,
): Date {
  const lifetime = notAfter.getTime() - issuedAt.getTime();
  const before = renewBeforeMs < lifetime ? renewBeforeMs : lifetime / 3;
  const j = Math.min(Math.max(jitter, 0), 1) * maxJitterFraction * before;
  return new Date(Math.round(notAfter.getTime() - before - j));
}

/**
 * trustBundleStale tells whether a Secret's ca.crt differs from the bundle meshid trusts now: a
 * Secret kept (not re-issued) must still carry every root a peer's certificate may chain to, so a
 * change of the bundle reaches each pod by rewriting ca.crt alone.
 */
export function trustBundleStale(storedPem: string | undefined, bundlePem: string): boolean {
  const norm = (t: string) => t.replace(/\r\n/g, "\n").trim();
  return storedPem === undefined || norm(storedPem) !== norm(bundlePem);
}

/** minRequeueMs is the shortest delay a reconcile asks for: never zero or negative. */
const minRequeueMs = 1_000;

/** requeueDelay is how long to wait until `at`, at least minRequeueMs. */
export function requeueDelay(at: Date, now: Date): number {
  return Math.max(at.getTime() - now.getTime(), minRequeueMs);
}
