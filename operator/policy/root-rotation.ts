/**
 * The root rotation's next step, as a pure function of what the rotation controller gathered:
 * the requested token, the state kept in MeshCA status, what the loaded CA holds, how many
 * carriers of the trust bundle still lag, and how many live leaves still chain to a previous CA.
 * Nothing here reads the clock: `now` is passed in.
 */
import type { RootRotation, RootRotationPhase } from "../../api/v1alpha1/meshca";

/** RotationFacts is what the decision needs. */
export interface RotationFacts {
  /** requested is spec.rootRotation (undefined or "" when unset). */
  requested?: string;
  /** state is status.rotation. */
  state?: RootRotation;
  now: Date;
  soakMs: number;
  /** bundleHasNext: the loaded trust bundle holds every next root. */
  bundleHasNext: boolean;
  /** signingWithNext: the loaded signing CA is the next intermediate. */
  signingWithNext: boolean;
  /** carriersPending counts carriers of the trust bundle that do not hold the loaded bundle. */
  carriersPending: number;
  /** leavesOnPrevious counts live leaves signed by a CA other than the current intermediate. */
  leavesOnPrevious: number;
  /**
   * podCertificatesUntil is when the last pod certificate kubelet may hold from before Active
   * expires (Draining's start plus the longest PodCertificate lifetime meshid signs); meshid does
   * not see those leaves, only their bound. Undefined when no MeshIdentity delivers that way.
   */
  podCertificatesUntil?: Date;
}

/** RotationAction is the one thing the controller does next. */
export type RotationAction =
  | "idle"
  | "start"
  | "propagate"
  | "mark-carriers-updated"
  | "mark-leaves-moved"
  | "wait"
  | "activate"
  | "drain"
  | "retire"
  | "rollback";

/** RotationStep is the decision: an action, why, and (when waiting) when to look again. */
export interface RotationStep {
  action: RotationAction;
  /** message is what status.rotation.message should say (waiting for what, or refused why). */
  message?: string;
  /** refused is set when spec asks for something that can no longer be done (rollback after Active). */
  refused?: string;
  /** afterMs is when a waiting step should be looked at again, if a time is known. */
  afterMs?: number;
}

const inProgressPhases: readonly RootRotationPhase[] = [
  "Prepared",
  "Propagating",
  "Active",
  "Draining",
];

/** rotationInProgress is true from Prepared until Retired or RolledBack. */
export function rotationInProgress(state: RootRotation | undefined): boolean {
  return state !== undefined && inProgressPhases.includes(state.phase);
}

/**
 * nextRotationStep decides the next step. A rotation starts when spec names a token that is not
 * the last completed rotation's and none is in progress. While one is in progress, a spec that no
 * longer names it rolls it back if it has not reached Active; from Active on, new leaves are signed
 * under the new root, so the request is refused (and said so) and the rotation goes on.
 */
export function nextRotationStep(f: RotationFacts): RotationStep {
  const requested = f.requested || undefined;
  const state = f.state;
  if (!state || !rotationInProgress(state)) {
    // A token refused during the last rotation is not acted on after it: it asked for a rollback.
    if (requested !== undefined && requested !== state?.completed && requested !== state?.refused)
      return { action: "start" };
    // A rotation that could not be prepared and is no longer requested: undo what it made.
    if (state?.phase === "Pending") return { action: "rollback" };
    return { action: "idle" };
  }
  if (requested !== state.id) {
    if (state.phase === "Prepared" || state.phase === "Propagating") return { action: "rollback" };
    const refused =
      `root rotation ${state.id} is ${state.phase}: leaves are already signed under the new root, ` +
      `so it cannot be rolled back; it continues until Retired (set spec.rootRotation back to ${state.id})`;
    return { ...progress(f, state), refused };
  }
  return progress(f, state);
}

function progress(f: RotationFacts, state: RootRotation): RotationStep {
  switch (state.phase) {
    case "Prepared":
      return { action: "propagate" };
    case "Propagating": {
      // Someone rewrote the CA Secret without the next root: put it back, never go on without it.
      if (!f.bundleHasNext) return { action: "propagate" };
      if (f.carriersPending > 0)
        return {
          action: "wait",
          message: `waiting for ${f.carriersPending} carrier(s) of the trust bundle to hold the new root`,
        };
      if (!state.carriersUpdatedAt) return { action: "mark-carriers-updated" };
      const soakEnds = Date.parse(state.carriersUpdatedAt) + f.soakMs;
      const left = soakEnds - f.now.getTime();
      if (left > 0)
        return {
          action: "wait",
          message: `every carrier holds the new root; soaking until ${new Date(soakEnds).toISOString()}`,
          afterMs: left,
        };
      return { action: "activate" };
    }
    case "Active":
      if (!f.signingWithNext)
        return { action: "wait", message: "waiting for the new intermediate to be loaded" };
      return { action: "drain" };
    case "Draining": {
      if (f.leavesOnPrevious > 0)
        return {
          action: "wait",
          message: `${f.leavesOnPrevious} live leaf(s) still signed by a previous intermediate; re-issuing them paced`,
        };
      const podCertsLeft = (f.podCertificatesUntil?.getTime() ?? 0) - f.now.getTime();
      if (podCertsLeft > 0)
        return {
          action: "wait",
          message: `every Secret holds a leaf of the new intermediate; pod certificates kubelet holds may chain to the old root until ${f.podCertificatesUntil!.toISOString()}`,
          afterMs: podCertsLeft,
        };
      // Every Secret holds a new leaf, but a pod serves the one its kubelet last delivered: the
      // old root stays trusted for a soak more, or a peer would reject a leaf still in use.
      if (!state.leavesMovedAt) return { action: "mark-leaves-moved" };
      const soakEnds = Date.parse(state.leavesMovedAt) + f.soakMs;
      const left = soakEnds - f.now.getTime();
      if (left > 0)
        return {
          action: "wait",
          message: `every leaf is on the new intermediate; soaking until ${new Date(soakEnds).toISOString()} before the old root is retired`,
          afterMs: left,
        };
      return { action: "retire" };
    }
    default:
      return { action: "idle" };
  }
}

/** phaseAfter is the phase an action leads to, or undefined when it keeps the phase. */
export function phaseAfter(action: RotationAction): RootRotationPhase | undefined {
  const to: Partial<Record<RotationAction, RootRotationPhase>> = {
    start: "Prepared",
    propagate: "Propagating",
    activate: "Active",
    drain: "Draining",
    retire: "Retired",
    rollback: "RolledBack",
  };
  return to[action];
}
