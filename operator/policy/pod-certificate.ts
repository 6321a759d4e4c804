/**
 * What meshid answers to a PodCertificateRequest (Kubernetes Pod Certificates): issue, deny, fail,
 * or wait a little for the caches. The identity comes from the pod meshid finds by name AND UID,
 * selected by a MeshIdentity under the same rules as the Secret path; nothing the request carries
 * beyond the pod's coordinates and its public key is trusted. Pure: the clock is an input.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { resolveSpec, type ResolvedSpec } from "../../api/v1alpha1/defaults";
import type { DnsNamePolicy } from "../../api/v1alpha1/validate";

import { desiredCertificate } from "./desired";
import { renewalTime, type DesiredCertificate, type KeySettings } from "./issuance";
import { podQualifies, podServiceAccount, selectIdentity } from "./selection";

/** PcrFacts are the fields of a PodCertificateRequest the decision reads. */
export interface PcrFacts {
  namespace: string;
  podName: string;
  podUid: string;
  serviceAccountName: string;
  nodeName: string;
  maxExpirationSeconds: number;
  /** unverifiedUserAnnotations as the pod's author wrote them into the projected source. */
  userAnnotations: Record<string, string>;
  /** terminal is true once the request carries Issued, Denied or Failed. */
  terminal: boolean;
}

/** RequestedKey is the public key's type, or why meshid cannot read it. */
export type RequestedKey =
  { ok: true; key: Pick<KeySettings, "algorithm" | "size"> } | { ok: false; message: string };

/** PcrContext is the state outside the request that the decision depends on. */
export interface PcrContext {
  /** pod is the cached pod of the request's namespace and name, if any. */
  pod: V1Pod | undefined;
  identities: readonly MeshIdentity[];
  trustDomain: string;
  dnsPolicy: DnsNamePolicy;
  defaultDurationMs: number;
  ca: { ready: true; notAfter: Date } | { ready: false; message: string };
  key: RequestedKey;
  now: Date;
}

/** PcrReason are the condition reasons meshid writes on PodCertificateRequests. */
export const PcrReason = {
  Issued: "Issued",
  InvalidUnverifiedUserAnnotations: "InvalidUnverifiedUserAnnotations",
  PodNotFound: "PodNotFound",
  PodMismatch: "PodMismatch",
  PodFinished: "PodFinished",
  NotSelected: "NotSelected",
  Conflict: "Conflict",
  DeliveryNotPodCertificate: "DeliveryNotPodCertificate",
  InvalidSpec: "InvalidSpec",
  UnsupportedKeyType: "UnsupportedKeyType",
  DurationTooShort: "DurationTooShort",
  CAExpiresSoon: "CAExpiresSoon",
  IssueFailed: "IssueFailed",
} as const;

/** PcrDecision is what to do with one request. */
export type PcrDecision =
  | { action: "skip" }
  | { action: "wait"; afterMs: number; why: string }
  | { action: "deny" | "fail"; reason: string; message: string }
  | {
      action: "issue";
      identity: MeshIdentity;
      spec: ResolvedSpec;
      desired: DesiredCertificate;
      /** durationMs for issueLeaf: its notAfter is now + durationMs (capped by the CA). */
      durationMs: number;
      backdateMs: number;
    };

/** PCR_MIN_LIFETIME_MS is the shortest lifetime the API server accepts for a pod certificate. */
const PCR_MIN_LIFETIME_MS = 60 * 60 * 1000;

/** PCR_BACKDATE_MS backdates notBefore; the API server wants it within 5 minutes of its clock. */
export const PCR_BACKDATE_MS = 2 * 60 * 1000;

/** refreshMarginMs keeps beginRefreshAt 10 minutes inside the lifetime, as the API requires. */
const refreshMarginMs = 10 * 60 * 1000;

/** caWaitMs is how soon a request waiting for the CA is looked at again. */
const caWaitMs = 15_000;

/**
 * podCertificateKeyType names a key as kubelet's podCertificate `keyType` does, or undefined for
 * keys kubelet does not make (RSA 2048, and anything unknown).
 */
export function podCertificateKeyType(
  key: Pick<KeySettings, "algorithm" | "size">,
): string | undefined {
  if (key.algorithm === "Ed25519") return "ED25519";
  if (key.algorithm === "ECDSA" && (key.size === 256 || key.size === 384))
    return `ECDSAP${key.size}`;
  if (key.algorithm === "RSA" && (key.size === 3072 || key.size === 4096)) return `RSA${key.size}`;
  return undefined;
}

function describeKey(key: Pick<KeySettings, "algorithm" | "size">): string {
  return podCertificateKeyType(key) ?? `${key.algorithm}${key.size ? ` ${key.size}` : ""}`;
}

/** decidePodCertificate decides one PodCertificateRequest. */
export function decidePodCertificate(facts: PcrFacts, ctx: PcrContext): PcrDecision {
  if (facts.terminal) return { action: "skip" };
  const where = `pod ${facts.namespace}/${facts.podName}`;
  const unknown = Object.keys(facts.userAnnotations).sort();
  if (unknown.length > 0)
    return {
      action: "deny",
      reason: PcrReason.InvalidUnverifiedUserAnnotations,
      message: `meshid accepts no unverifiedUserAnnotations and the request carries ${unknown.join(", ")}; remove them from the pod's podCertificate source (the identity comes from the pod's namespace and service account)`,
    };
  const { pod } = ctx;
  // The pod is read from the API server when the cache lacks it or holds another UID.
  if (!pod)
    return {
      action: "deny",
      reason: PcrReason.PodNotFound,
      message: `${where} does not exist`,
    };
  if (pod.metadata?.uid !== facts.podUid)
    return {
      action: "deny",
      reason: PcrReason.PodMismatch,
      message: `${where} has UID ${pod.metadata?.uid ?? "(none)"}, not the requested ${facts.podUid}; the request is for a pod that no longer exists`,
    };
  if (pod.spec?.nodeName !== facts.nodeName)
    return {
      action: "deny",
      reason: PcrReason.PodMismatch,
      message: `${where} runs on node ${pod.spec?.nodeName ?? "(none)"}, not on the requesting node ${facts.nodeName}`,
    };
  if (podServiceAccount(pod) !== facts.serviceAccountName)
    return {
      action: "deny",
      reason: PcrReason.PodMismatch,
      message: `${where} runs as service account ${podServiceAccount(pod)}, not ${facts.serviceAccountName}`,
    };
  if (!podQualifies(pod))
    return {
      action: "deny",
      reason: PcrReason.PodFinished,
      message: `${where} is finished or being deleted`,
    };
  const { winner, losers } = selectIdentity(pod, ctx.identities);
  if (!winner)
    return {
      action: "deny",
      reason: PcrReason.NotSelected,
      message: `no MeshIdentity of namespace ${facts.namespace} selects ${where} (labels and service account ${podServiceAccount(pod)}); create one, or remove the podCertificate volume`,
    };
  const name = winner.metadata.name ?? "";
  if (losers.length > 0)
    return {
      action: "deny",
      reason: PcrReason.Conflict,
      message: `${where} is selected by MeshIdentities ${[winner, ...losers].map((m) => m.metadata.name).join(", ")}; narrow their selectors so exactly one selects it`,
    };
  let spec: ResolvedSpec;
  try {
    spec = resolveSpec(winner.spec, { defaultDurationMs: ctx.defaultDurationMs });
  } catch (err) {
    return {
      action: "deny",
      reason: PcrReason.InvalidSpec,
      message: `MeshIdentity ${name} is invalid: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (spec.delivery !== "PodCertificate")
    return {
      action: "deny",
      reason: PcrReason.DeliveryNotPodCertificate,
      message: `MeshIdentity ${name} delivers certificates by ${spec.delivery}; set spec.delivery: PodCertificate to sign pod certificates for it`,
    };
  const want = desiredCertificate(pod, spec, ctx.trustDomain, ctx.dnsPolicy);
  if (!want.ok)
    return {
      action: "deny",
      reason: want.reason,
      message: `MeshIdentity ${name}: ${want.message}`,
    };
  const desired = want.desired;
  const allowed = describeKey(desired.key);
  if (!ctx.key.ok)
    return {
      action: "deny",
      reason: PcrReason.UnsupportedKeyType,
      message: `${ctx.key.message}; MeshIdentity ${name} allows ${allowed} keys: set keyType: ${allowed}`,
    };
  if (
    ctx.key.key.algorithm !== desired.key.algorithm ||
    (ctx.key.key.size ?? 0) !== (desired.key.size ?? 0)
  )
    return {
      action: "deny",
      reason: PcrReason.UnsupportedKeyType,
      message: `the request's key is ${describeKey(ctx.key.key)}, but MeshIdentity ${name} allows ${allowed} keys: set keyType: ${allowed}`,
    };
  const maxLifetimeMs = facts.maxExpirationSeconds * 1000;
  // Durations are whole seconds, so the lifetime is exactly durationMs + the backdate.
  const durationMs = Math.min(spec.durationMs, maxLifetimeMs - PCR_BACKDATE_MS);
  if (durationMs + PCR_BACKDATE_MS < PCR_MIN_LIFETIME_MS)
    return {
      action: "deny",
      reason: PcrReason.DurationTooShort,
      message: `pod certificates live at least 1h, but MeshIdentity ${name} allows ${Math.round(spec.durationMs / 1000)}s and the request ${facts.maxExpirationSeconds}s; raise spec.duration to 1h or more`,
    };
  // kubelet (1.36) treats Denied and Failed as final for the pod: a CA that is not ready yet
  // leaves the request pending. If it stays so, kube-controller-manager deletes the request
  // after 15 minutes and kubelet asks again.
  if (!ctx.ca.ready)
    return {
      action: "wait",
      afterMs: caWaitMs,
      why: `meshid's CA is not ready (${ctx.ca.message})`,
    };
  const notBefore = ctx.now.getTime() - PCR_BACKDATE_MS;
  if (ctx.ca.notAfter.getTime() - notBefore < PCR_MIN_LIFETIME_MS + 1000)
    return {
      action: "fail",
      reason: PcrReason.CAExpiresSoon,
      message: `meshid's CA expires at ${ctx.ca.notAfter.toISOString()}, too soon for a certificate of at least 1h; renew the CA`,
    };
  return {
    action: "issue",
    identity: winner,
    spec,
    desired,
    durationMs,
    backdateMs: PCR_BACKDATE_MS,
  };
}

/**
 * beginRefreshAt is when kubelet should ask again: renewBefore scaled to the lifetime actually
 * issued (the request's maxExpirationSeconds may cut it), minus the jitter drawn once, kept
 * 10 minutes inside [notBefore, notAfter] as the API server requires.
 */
export function beginRefreshAt(
  notBefore: Date,
  notAfter: Date,
  spec: Pick<ResolvedSpec, "durationMs" | "renewBeforeMs">,
  jitter: number,
): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const renewBefore = (spec.renewBeforeMs / spec.durationMs) * lifetime;
  const at = renewalTime(notBefore, notAfter, renewBefore, jitter).getTime();
  const earliest = notBefore.getTime() + refreshMarginMs;
  const latest = notAfter.getTime() - refreshMarginMs;
  return new Date(Math.min(Math.max(at, earliest), latest));
}
