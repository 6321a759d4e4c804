/**
 * Which MeshIdentity, if any, gives a pod its identity. Pure functions over cached objects.
 */
import type { V1LabelSelector, V1Pod } from "@kubernetes/client-node";

/** IdentityCandidate is the part of a MeshIdentity that selection looks at. */
export interface IdentityCandidate {
  metadata?: {
    name?: string;
    namespace?: string;
    creationTimestamp?: Date | string;
    deletionTimestamp?: Date | string;
  };
  spec?: { selector?: V1LabelSelector; serviceAccountName?: string };
}

/** matchesSelector reports whether `labels` satisfy a Kubernetes LabelSelector. */
export function matchesSelector(
  selector: V1LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  // A MeshIdentity without a selector selects nothing (the schema requires one anyway).
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (have[k] !== v) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, expr.key);
    const value = have[expr.key];
    const values = expr.values ?? [];
    switch (expr.operator) {
      case "In":
        if (!present || !values.includes(value!)) return false;
        break;
      case "NotIn":
        if (present && values.includes(value!)) return false;
        break;
      case "Exists":
        if (!present) return false;
        break;
      case "DoesNotExist":
        if (present) return false;
        break;
      default:
        return false; // an unknown operator never matches
    }
  }
  return true;
}

/** podServiceAccount is the service account a pod runs as ("default" when unset). */
export function podServiceAccount(pod: V1Pod): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || "default";
}

/** selects reports whether a MeshIdentity selects the pod: same namespace, labels, service account. */
export function selects(identity: IdentityCandidate, pod: V1Pod): boolean {
  if (identity.metadata?.deletionTimestamp) return false;
  if (identity.metadata?.namespace !== pod.metadata?.namespace) return false;
  if (!matchesSelector(identity.spec?.selector, pod.metadata?.labels)) return false;
  const sa = identity.spec?.serviceAccountName;
  return !sa || sa === podServiceAccount(pod);
}

function createdMs(identity: IdentityCandidate): number {
  const t = identity.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : Number.MAX_SAFE_INTEGER;
}

/** compareSeniority orders MeshIdentities oldest first, then by name: the first one wins a pod. */
function compareSeniority(a: IdentityCandidate, b: IdentityCandidate): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

/** Selection is the outcome of choosing an identity for one pod. */
export interface Selection<T extends IdentityCandidate> {
  /** winner gives the pod its certificate; undefined when nothing selects the pod. */
  winner?: T;
  /** losers also select the pod and report a Conflict. */
  losers: T[];
}

/** selectIdentity picks the MeshIdentity that gives `pod` its identity among `identities`. */
export function selectIdentity<T extends IdentityCandidate>(
  pod: V1Pod,
  identities: readonly T[],
): Selection<T> {
  const matching = identities.filter((i) => selects(i, pod)).sort(compareSeniority);
  const [winner, ...losers] = matching;
  return winner ? { winner, losers } : { losers: [] };
}

/** podQualifies reports whether a pod can hold an identity at all (not finished, not deleting). */
export function podQualifies(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}
