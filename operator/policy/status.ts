/**
 * The status of a MeshIdentity, computed from gathered counts. Pure: the reconcile writes it only
 * when it differs from what the object already has.
 */
import type { Condition, MeshIdentityStatus } from "../../api/v1alpha1/types";
import { CONDITION_READY, Reason, formatTime, setCondition } from "../../api/v1alpha1/conditions";

/** StatusInput is everything the Ready condition and the counters depend on. */
export interface StatusInput {
  generation: number;
  previous?: MeshIdentityStatus;
  ca: { ready: true } | { ready: false; message: string };
  /** A problem with the spec itself (InvalidSpec, DNSNameNotAllowed, DNSNameInvalid). */
  specProblem?: { reason: string; message: string };
  /** Pods the selector (and service account) match. */
  selected: number;
  /** Of those, pods that an older MeshIdentity serves. */
  conflicts: number;
  /** Pods served by this MeshIdentity holding a current certificate. */
  issued: number;
  /** Issued pods that have not mounted their Secret (created before injection was enabled). */
  restartRequired: number;
  /** The latest issuance failure, while some pod still lacks a certificate. */
  failure?: string;
  nextRenewal?: Date;
  now: Date;
}

/** readyCondition decides the Ready condition, most fundamental problem first. */
export function readyCondition(s: StatusInput): Omit<Condition, "lastTransitionTime"> {
  const cond = (status: "True" | "False", reason: string, message: string) => ({
    type: CONDITION_READY,
    status,
    reason,
    message,
    observedGeneration: s.generation,
  });
  const served = s.selected - s.conflicts;
  const progress = `${s.issued}/${served} pods hold a current certificate`;
  if (!s.ca.ready) return cond("False", Reason.CANotReady, `the CA is not ready: ${s.ca.message}`);
  if (s.specProblem)
    return cond(
      "False",
      s.specProblem.reason,
      `${s.specProblem.message}; no certificate is issued`,
    );
  if (s.selected === 0)
    return cond("False", Reason.NoPodsSelected, "no pod in this namespace matches the selector");
  if (served === 0) {
    return cond(
      "False",
      Reason.Conflict,
      `all ${s.selected} selected pods already get their identity from an older MeshIdentity`,
    );
  }
  if (s.issued < served && s.failure)
    return cond("False", Reason.IssueFailed, `${progress}; last failure: ${s.failure}`);
  if (s.issued < served) return cond("False", Reason.Pending, progress);
  const notes: string[] = [];
  if (s.conflicts > 0)
    notes.push(`${s.conflicts} selected pods get their identity from an older MeshIdentity`);
  if (s.restartRequired > 0) {
    notes.push(
      `${s.restartRequired} pods were created before injection was enabled and must be restarted to mount their certificate`,
    );
    return cond("True", Reason.RestartRequired, [progress, ...notes].join("; "));
  }
  return cond("True", Reason.Issued, [progress, ...notes].join("; "));
}

/** computeStatus builds the full status, keeping lastTransitionTime when Ready's status holds. */
export function computeStatus(s: StatusInput): MeshIdentityStatus {
  const conditions = setCondition(s.previous?.conditions, readyCondition(s), s.now);
  return {
    observedGeneration: s.generation,
    conditions,
    selectedPods: s.selected,
    issuedPods: s.issued,
    ...(s.nextRenewal ? { nextRenewalTime: formatTime(s.nextRenewal) } : {}),
  };
}

/** statusEqual compares two statuses field by field (key order does not matter). */
export function statusEqual(a: MeshIdentityStatus | undefined, b: MeshIdentityStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
