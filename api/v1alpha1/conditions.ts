/**
 * Condition types and reasons of MeshIdentity status, defined once. The operator sets exactly one
 * condition, `Ready`; its reason says why, in words a user can search for.
 */
import type { Condition } from "./types";

/** CONDITION_READY is the one condition type: True when every selected pod holds a current certificate. */
export const CONDITION_READY = "Ready";

/** Reason lists every reason the operator gives on the `Ready` condition. */
export const Reason = {
  /** Issued: every selected pod holds a current certificate (Ready=True). */
  Issued: "Issued",
  /** Pending: at least one selected pod is still waiting for its first or renewed certificate. */
  Pending: "Pending",
  /** NoPodsSelected: the selector matches no pod (Ready=False, nothing to issue). */
  NoPodsSelected: "NoPodsSelected",
  /** DNSNameNotAllowed: a rendered DNS name lies outside the pod's namespace service domain and the allowed suffixes; no certificate is issued. */
  DNSNameNotAllowed: "DNSNameNotAllowed",
  /** DNSNameInvalid: a DNS name rendered for a pod is not a valid DNS name (e.g. a label longer than 63 characters). */
  DNSNameInvalid: "DNSNameInvalid",
  /** InvalidSpec: the spec passed the API server but cannot be resolved (e.g. renewBefore not below the operator's default duration). */
  InvalidSpec: "InvalidSpec",
  /** Conflict: an older MeshIdentity (then the one first by name) already selects some of these pods; those pods are left to it. */
  Conflict: "Conflict",
  /** IssueFailed: signing or storing a certificate failed; the operator retries with backoff. */
  IssueFailed: "IssueFailed",
  /** CANotReady: the CA is missing, invalid or expired, so nothing can be signed. */
  CANotReady: "CANotReady",
  /** RestartRequired: some pods hold a certificate Secret they have not mounted, because they were created before injection was enabled; restart them. */
  RestartRequired: "RestartRequired",
} as const;

/** Reason is one of the reasons of the `Ready` condition. */
export type Reason = (typeof Reason)[keyof typeof Reason];

/** findCondition returns the condition of the given type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * setCondition returns a new list with `next` replacing the condition of its type. The
 * `lastTransitionTime` is kept when the status did not change, so that writing the same status
 * twice yields an equal list (and the caller can skip the write); otherwise it becomes `now`.
 * Order is preserved; a new type is appended.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const previous = findCondition(list, next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : formatTime(now);
  const updated: Condition = { ...next, lastTransitionTime };
  if (!previous) return [...list, updated];
  return list.map((c) => (c.type === next.type ? updated : c));
}

/** formatTime renders a time as Kubernetes does for metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatTime(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}
