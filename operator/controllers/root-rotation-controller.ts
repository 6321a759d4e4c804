/**
 * RootRotationController carries out the root rotation a user requests with
 * `spec.rootRotation` of the MeshCA: Prepared (the next root and intermediate exist, in their own
 * Secrets, create-only) → Propagating (the CA Secret's ca.crt holds old and new roots, so every
 * carrier follows; wait until each does, then a soak) → Active (the next intermediate signs) →
 * Draining (leaves move paced) → Retired (the old root leaves the bundle). Before Active a rotation
 * that is no longer requested is rolled back. Its state lives in MeshCA status and the Secrets,
 * never only in memory: each step is decided from them again, and each write is guarded, so a
 * restart at any point resumes where the API says the rotation stands. Only the leader runs it.
 * A change of the MeshCA's spec wakes it at once; its status writes do not.
 *
 * This file is the loop: gather, decide (policy/root-rotation.ts), act, write. What is waited for
 * is counted in rotation-inventory.ts; the start in rotation-prepare.ts; the later phases' writes
 * in rotation-steps.ts; the reads and guarded writes of the state in rotation-store.ts.
 */
import { MESHCA_NAME, type MeshCA, type RootRotation } from "../../api/v1alpha1/meshca";
import type { Config } from "../config";
import { errorText } from "../errors";
import type {
  ClusterTrustBundlePort,
  EventPort,
  MeshCaRotationPort,
  SecretPort,
  WebhookConfigPort,
} from "../kube/client";
import { isConflict } from "../kube/errors";
import { recordEvent } from "../kube/events";
import { watch, type Controller, type Source, type Watch } from "../kube/manager";
import type { ReconcileResult } from "../kube/queue";
import {
  nextRotationStep,
  phaseAfter,
  rotationInProgress,
  type RotationStep,
} from "../policy/root-rotation";
import { bundleFingerprints, type SigningCa } from "../pki";
import type { CaStatus } from "./ca-manager";
import {
  countCarriers,
  leavesOnPrevious,
  podCertificateLifetimeMs,
  type InventoryDeps,
} from "./rotation-inventory";
import { prepareRotation, startingState, type PrepareDeps } from "./rotation-prepare";
import { activate, propagate, retire, rollback, type RotationStepDeps } from "./rotation-steps";
import { writeRotation } from "./rotation-store";

/** RotationObserver counts phase transitions (a metric). */
export interface RotationObserver {
  rotationTransition(from: string, to: string): void;
}

/** RootRotationDeps are the ports the rotation uses. */
export interface RootRotationDeps extends InventoryDeps, PrepareDeps, RotationStepDeps {
  /** meshcas is the cache of the one MeshCA: its spec changes wake the controller. */
  meshcas: Source<MeshCA>;
  kube: MeshCaRotationPort & SecretPort & EventPort & WebhookConfigPort & ClusterTrustBundlePort;
  ca: () => CaStatus;
  observer: RotationObserver;
  config: PrepareDeps["config"] &
    Pick<
      Config,
      "caRotationSoakMs" | "caRecheckPeriodMs" | "webhookConfigName" | "defaultDurationMs"
    >;
}

/** busyMs is how often a rotation under way is looked at. */
const busyMs = 2_000;
/** blockedMs is how soon a blocked step is tried again. */
const blockedMs = 10_000;

/** requestedOf is the MeshCA's spec.rootRotation, "" when unset. */
const requestedOf = (mca: MeshCA): string => mca.spec?.rootRotation ?? "";

/** RootRotationController reconciles the one MeshCA's root rotation. */
export class RootRotationController implements Controller {
  readonly name = "rootrotation";
  readonly concurrency = 1;
  private reported?: string;
  /** seenGeneration is the MeshCA metadata.generation the last reconcile read. */
  private seenGeneration?: number;
  private carriers?: { total: number; pending: number };
  private leavesPending = 0;

  constructor(private readonly deps: RootRotationDeps) {}

  /**
   * watches: a MeshCA whose spec changed since the last reconcile read it (a new
   * metadata.generation), so a new `spec.rootRotation` is acted on at once. Status writes (this
   * controller's and the MeshCA status controller's) keep the generation and cost only this
   * comparison. Beyond that, a rotation under way is looked at every few seconds, an idle one at
   * recheck.
   */
  watches(): Watch[] {
    return [
      watch(this.deps.meshcas, (_type, mca) =>
        mca.metadata?.generation === this.seenGeneration ? [] : [MESHCA_NAME],
      ),
    ];
  }

  allKeys(): string[] {
    return [MESHCA_NAME];
  }

  async reconcile(): Promise<ReconcileResult> {
    const { kube, config } = this.deps;
    const idle = { requeueAfterMs: config.caRecheckPeriodMs };
    const mca = await kube.getMeshCa(MESHCA_NAME);
    if (!mca) return idle;
    this.seenGeneration = mca.metadata.generation;
    const status = this.deps.ca();
    const state = mca.status?.rotation;
    if (!status.ready) return rotationInProgress(state) ? { requeueAfterMs: busyMs } : idle;
    const ca = status.ca;
    const step = await this.decide(mca, state, ca);
    if (step.action === "idle") return idle;
    try {
      const next = await this.perform(step, mca, state, ca);
      if (step.refused && this.reported !== step.refused) {
        this.reported = step.refused;
        this.event("Warning", "CARotationRefused", step.refused);
      }
      await this.write(mca, state, next);
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: busyMs };
      const message = errorText(err);
      this.deps.logger.warn("Root rotation cannot go on", { error: message });
      if (this.reported !== message) {
        this.reported = message;
        this.event("Warning", "CARotationBlocked", message);
      }
      const base =
        step.action === "start"
          ? { ...startingState(this.deps, mca, ca), phase: "Pending" as const }
          : (state ?? startingState(this.deps, mca, ca));
      if (base.message !== message || base.phase !== state?.phase)
        await this.write(mca, state, { ...base, message });
      return { requeueAfterMs: blockedMs };
    }
    return { requeueAfterMs: Math.min(step.afterMs ?? busyMs, busyMs) };
  }

  private async decide(mca: MeshCA, state: RootRotation | undefined, ca: SigningCa) {
    const nextFps = (state?.nextRoots ?? []).map((r) => r.fingerprint);
    const bundle = bundleFingerprints(ca.trustBundlePem);
    const phase = state && rotationInProgress(state) ? state.phase : undefined;
    const carriers = phase === "Propagating" ? await countCarriers(this.deps, ca) : undefined;
    const leaves = phase === "Draining" ? leavesOnPrevious(this.deps, ca) : 0;
    const podCertsMs = phase === "Draining" ? podCertificateLifetimeMs(this.deps) : 0;
    const step = nextRotationStep({
      ...(mca.spec?.rootRotation ? { requested: mca.spec.rootRotation } : {}),
      ...(state ? { state } : {}),
      now: this.deps.clock.now(),
      soakMs: this.deps.config.caRotationSoakMs,
      bundleHasNext: nextFps.length > 0 && nextFps.every((f) => bundle.includes(f)),
      signingWithNext: ca.fingerprint === state?.nextIntermediate?.fingerprint,
      carriersPending: carriers?.pending ?? 0,
      leavesOnPrevious: leaves,
      ...(podCertsMs > 0 && state
        ? { podCertificatesUntil: new Date(Date.parse(state.since) + podCertsMs) }
        : {}),
    });
    this.carriers = carriers;
    this.leavesPending = leaves;
    return step;
  }

  /** perform takes `step`'s writes and returns the rotation state they lead to. */
  private async perform(
    step: RotationStep,
    mca: MeshCA,
    state: RootRotation | undefined,
    ca: SigningCa,
  ): Promise<RootRotation> {
    const now = this.deps.clock.now().toISOString();
    if (step.action === "start") return prepareRotation(this.deps, mca, ca);
    if (!state) throw new TypeError("a rotation step needs a rotation");
    const moved = (extra: Partial<RootRotation> = {}): RootRotation => {
      const to = phaseAfter(step.action);
      const { message: _m, ...rest } = state;
      return {
        ...rest,
        ...(to && to !== state.phase ? { phase: to, since: now } : {}),
        ...(step.refused ? { message: step.refused, refused: requestedOf(mca) } : {}),
        ...extra,
      };
    };
    switch (step.action) {
      case "propagate":
        await propagate(this.deps, state);
        return moved({ carriersUpdatedAt: undefined });
      case "mark-carriers-updated":
        return moved({ carriersUpdatedAt: now, ...this.carrierCounts() });
      case "mark-leaves-moved":
        return moved({ leavesMovedAt: now });
      case "wait":
        return {
          ...state,
          ...(step.refused ? { refused: requestedOf(mca) } : {}),
          message: step.refused ?? step.message ?? "",
          ...this.carrierCounts(),
          ...(state.phase === "Propagating" && (this.carriers?.pending ?? 0) > 0
            ? { carriersUpdatedAt: undefined }
            : {}),
          ...(state.phase === "Draining" && this.leavesPending > 0
            ? { leavesMovedAt: undefined }
            : {}),
        };
      case "activate":
        await activate(this.deps, state);
        return moved();
      case "drain":
        return moved();
      case "retire":
        await retire(this.deps, state);
        return moved({ completed: state.id });
      case "rollback":
        await rollback(this.deps, state);
        return moved();
      default:
        return state;
    }
  }

  private carrierCounts(): Partial<RootRotation> {
    return this.carriers ? { carriers: { ...this.carriers } } : {};
  }

  /** write stores the rotation and records the Event and metric of a phase change. */
  private async write(
    mca: MeshCA,
    before: RootRotation | undefined,
    after: RootRotation,
  ): Promise<void> {
    if (!(await writeRotation(this.deps, mca, before, after))) return;
    const from = before && before.id === after.id ? before.phase : "None";
    if (after.phase !== before?.phase || before.id !== after.id) {
      const to = after.phase;
      this.deps.observer.rotationTransition(from, to);
      this.deps.logger.info("Root rotation phase changed", { rotation: after.id, from, to });
      this.event(
        "Normal",
        "CARotationPhaseChanged",
        `MeshCA ${MESHCA_NAME}: root rotation ${after.id}: ${from} → ${to}`,
      );
    }
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const { namespace, caSecret } = this.deps.config;
    recordEvent(
      this.deps,
      { apiVersion: "v1", kind: "Secret", metadata: { namespace, name: caSecret } },
      type,
      reason,
      message,
    );
  }
}
