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
 */
import type { V1Secret } from "@kubernetes/client-node";
import {
  MESHCA_NAME,
  type CertificateRef,
  type MeshCA,
  type RootRotation,
} from "../../api/v1alpha1/meshca";
import type { Clock } from "../clock";
import type { Config } from "../config";
import { errorText, MeshIdError } from "../errors";
import type { Logger } from "../logger";
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
import { buildCaSecret } from "../kube/objects";
import type { ReconcileResult } from "../kube/queue";
import { trustBundleStale } from "../policy/issuance";
import { nextCaSecretName, nextRootCaSecretName, retiredRootCaSecretName } from "../policy/naming";
import {
  nextRotationStep,
  phaseAfter,
  rotationInProgress,
  type RotationStep,
} from "../policy/root-rotation";
import {
  bootstrapCa,
  bootstrapSecretData,
  bundleFingerprints,
  bundleWithout,
  checkCaPair,
  decodeCaSecretData,
  encodeCaSecretData,
  loadSigningCa,
  mergeBundles,
  signIntermediate,
  summarizeCertificates,
  type SigningCa,
} from "../pki";
import type { CaStatus } from "./ca-manager";
import type { ExistingCache } from "./existing";
import { countCarriers, leavesOnPrevious, type InventoryDeps } from "./rotation-inventory";

/** RotationObserver counts phase transitions (a metric). */
export interface RotationObserver {
  rotationTransition(from: string, to: string): void;
}

/** RootRotationDeps are the ports the rotation uses. */
export interface RootRotationDeps extends InventoryDeps {
  /** meshcas is the cache of the one MeshCA: its spec changes wake the controller. */
  meshcas: Source<MeshCA>;
  kube: MeshCaRotationPort & SecretPort & EventPort & WebhookConfigPort & ClusterTrustBundlePort;
  ca: () => CaStatus;
  /** recheckCa makes the CA manager read the CA Secrets now. */
  recheckCa: () => Promise<void>;
  existing: ExistingCache;
  clock: Clock;
  logger: Logger;
  observer: RotationObserver;
  config: Pick<
    Config,
    | "namespace"
    | "caSecret"
    | "rootCaSecret"
    | "caMode"
    | "trustDomain"
    | "clusterDomain"
    | "allowedDnsSuffixes"
    | "caIntermediateValidityMs"
    | "caRootValidityMs"
    | "caRotationSoakMs"
    | "caRecheckPeriodMs"
    | "webhookConfigName"
  >;
}

/** RotationBlockedError: the rotation cannot take its next step until a person acts. */
class RotationBlockedError extends MeshIdError {
  constructor(message: string) {
    super("RootRotationBlocked", message, { retryable: true });
  }
}

/** busyMs is how often a rotation under way is looked at. */
const busyMs = 2_000;
/** blockedMs is how soon a blocked step is tried again. */
const blockedMs = 10_000;

const refsOf = (pem: string, what: string): CertificateRef[] =>
  summarizeCertificates(pem, what).map((c) => ({
    fingerprint: c.fingerprint,
    subject: c.subject,
    notAfter: c.notAfter.toISOString(),
  }));

const text = (data: Record<string, string> | undefined, key: string): string | undefined =>
  data?.[key] ? Buffer.from(data[key], "base64").toString("utf8") : undefined;

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

/** requestedOf is the MeshCA's spec.rootRotation, "" when unset. */
const requestedOf = (mca: MeshCA): string => mca.spec?.rootRotation ?? "";

/** canonical is JSON with sorted keys: the API server returns status keys sorted. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sort(x)]),
          )
        : v;
  return JSON.stringify(sort(value) ?? null);
}

/** RootRotationController reconciles the one MeshCA's root rotation. */
export class RootRotationController implements Controller {
  readonly name = "rootrotation";
  readonly concurrency = 1;
  private reported?: string;
  /** seenGeneration is the MeshCA metadata.generation the last reconcile read. */
  private seenGeneration?: number;

  constructor(private readonly deps: RootRotationDeps) {}

  /**
   * watches: a MeshCA whose spec changed since the last reconcile read it (a new metadata.generation),
   * so a new `spec.rootRotation` is acted on at once. Status writes (this controller's and the
   * MeshCA status controller's) keep the generation and cost only this comparison. Beyond that, a
   * rotation under way is looked at every few seconds, an idle one at recheck.
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
          ? { ...this.startingState(mca, ca), phase: "Pending" as const }
          : (state ?? this.startingState(mca, ca));
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
    const step = nextRotationStep({
      ...(mca.spec?.rootRotation ? { requested: mca.spec.rootRotation } : {}),
      ...(state ? { state } : {}),
      now: this.deps.clock.now(),
      soakMs: this.deps.config.caRotationSoakMs,
      bundleHasNext: nextFps.length > 0 && nextFps.every((f) => bundle.includes(f)),
      signingWithNext: ca.fingerprint === state?.nextIntermediate?.fingerprint,
      carriersPending: carriers?.pending ?? 0,
      leavesOnPrevious: leaves,
    });
    this.carriers = carriers;
    this.leavesPending = leaves;
    return step;
  }

  private carriers?: { total: number; pending: number };
  private leavesPending = 0;

  /** startingState is the state a rotation requested by `mca` starts from. */
  private startingState(mca: MeshCA, ca: SigningCa): RootRotation {
    const previous = mca.status?.rotation;
    return {
      id: mca.spec?.rootRotation ?? "",
      phase: "Prepared",
      since:
        previous?.phase === "Pending" && previous.id === mca.spec?.rootRotation
          ? previous.since
          : this.deps.clock.now().toISOString(),
      ...(previous?.completed ? { completed: previous.completed } : {}),
      // A refused token stays refused: putting it back later is a rollback, not a new request.
      ...(previous?.refused ? { refused: previous.refused } : {}),
      oldRoots: refsOf(ca.trustBundlePem, "the trust bundle"),
    };
  }

  private async perform(
    step: RotationStep,
    mca: MeshCA,
    state: RootRotation | undefined,
    ca: SigningCa,
  ): Promise<RootRotation> {
    const now = this.deps.clock.now().toISOString();
    if (step.action === "start") return this.prepare(mca, ca);
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
        await this.propagate(state);
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
        await this.activate(state);
        return moved();
      case "drain":
        return moved();
      case "retire":
        await this.retire(state);
        return moved({ completed: state.id });
      case "rollback":
        await this.rollback(state);
        return moved();
      default:
        return state;
    }
  }

  private carrierCounts(): Partial<RootRotation> {
    return this.carriers ? { carriers: { ...this.carriers } } : {};
  }

  /** prepare makes (bootstrap) or reads (external) the next intermediate and validates it. */
  private async prepare(mca: MeshCA, ca: SigningCa): Promise<RootRotation> {
    const { config } = this.deps;
    if (config.caMode === "bootstrap") await this.createBootstrapNext();
    const next = await this.loadNext();
    const nextRoots = refsOf(next.trustBundlePem, "the next roots");
    const [nextIntermediate] = refsOf(next.chainPem, "the next intermediate");
    if (next.fingerprint === ca.fingerprint)
      throw new RotationBlockedError(
        `${this.nextName()} holds the intermediate that already signs; supply a new one`,
      );
    return {
      ...this.startingState(mca, ca),
      nextRoots,
      ...(nextIntermediate ? { nextIntermediate } : {}),
    };
  }

  private nextName(): string {
    return `${this.deps.config.namespace}/${nextCaSecretName(this.deps.config.caSecret)}`;
  }

  /**
   * createBootstrapNext creates the next root and then the next intermediate, each create-only:
   * an existing one (a restart, another replica) is used as it is, and validated, never replaced.
   */
  private async createBootstrapNext(): Promise<void> {
    const { kube, config, clock, logger } = this.deps;
    const ns = config.namespace;
    const rootName = nextRootCaSecretName(config.rootCaSecret);
    const caName = nextCaSecretName(config.caSecret);
    let root = await kube.getSecret(ns, rootName);
    const have = await kube.getSecret(ns, caName);
    if (root && have) return;
    if (!root && have)
      throw new RotationBlockedError(
        `${ns}/${caName} exists without ${ns}/${rootName}; delete ${caName} (or restore ${rootName}) to prepare the rotation again`,
      );
    const now = clock.now();
    const generated = await bootstrapCa({
      trustDomain: config.trustDomain,
      clusterDomain: config.clusterDomain,
      dnsSuffixes: ["svc", ...config.allowedDnsSuffixes],
      now,
      intermediateValidityMs: config.caIntermediateValidityMs,
      rootValidityMs: config.caRootValidityMs,
      rootCommonName: `meshid root CA ${now.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`,
    });
    const data = bootstrapSecretData(generated);
    if (!root) {
      try {
        root = await kube.createSecret(ns, buildCaSecret(ns, rootName, data.root));
        logger.info("Created the next root CA", { secret: rootName });
      } catch (err) {
        if (!isConflict(err)) throw err;
        root = await kube.getSecret(ns, rootName);
      }
    }
    if (!root) throw new RotationBlockedError(`${ns}/${rootName} vanished while preparing`);
    const rootPems = decodeCaSecretData(root.data);
    // The generated intermediate fits only the generated root; a root found in place gets its own.
    let intermediate = data.intermediate;
    if (rootPems.certPem !== generated.root.certPem) {
      const rootCa = await loadSigningCa({ ...rootPems, rootsPem: rootPems.certPem, now });
      const signed = await signIntermediate(rootCa, {
        trustDomain: config.trustDomain,
        clusterDomain: config.clusterDomain,
        dnsSuffixes: ["svc", ...config.allowedDnsSuffixes],
        now,
        intermediateValidityMs: config.caIntermediateValidityMs,
      });
      intermediate = bootstrapSecretData({
        root: { ...rootPems },
        intermediate: signed,
      }).intermediate;
    }
    try {
      await kube.createSecret(ns, buildCaSecret(ns, caName, intermediate));
      logger.info("Created the next intermediate CA", { secret: caName });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /**
   * loadNext reads and validates the next intermediate like the current one (key matches, CA
   * flag, keyCertSign, chain to its roots, validity) and, in bootstrap mode, its pair with the
   * next root. A missing or corrupt Secret is reported, never replaced.
   */
  private async loadNext(): Promise<SigningCa> {
    const { kube, config, clock } = this.deps;
    const ns = config.namespace;
    const secret = await kube.getSecret(ns, nextCaSecretName(config.caSecret));
    if (!secret)
      throw new RotationBlockedError(
        `${this.nextName()} does not exist: supply the next intermediate there (tls.crt, tls.key, and ca.crt holding its root)`,
      );
    let pems;
    try {
      pems = decodeCaSecretData(secret.data);
      const next = await loadSigningCa({ ...pems, rootsPem: pems.caPem, now: clock.now() });
      if (config.caMode === "bootstrap") {
        const rootName = nextRootCaSecretName(config.rootCaSecret);
        const root = await kube.getSecret(ns, rootName);
        if (!root) throw new RotationBlockedError(`${ns}/${rootName} does not exist`);
        checkCaPair(decodeCaSecretData(root.data), pems, {
          root: `${ns}/${rootName}`,
          intermediate: this.nextName(),
        });
      }
      return next;
    } catch (err) {
      throw new RotationBlockedError(`${this.nextName()} is not a usable CA: ${errorText(err)}`);
    }
  }

  /** loadNextOf loads the next intermediate and checks it is the one the rotation prepared. */
  private async loadNextOf(state: RootRotation): Promise<{ next: SigningCa; secret: V1Secret }> {
    const next = await this.loadNext();
    if (next.fingerprint !== state.nextIntermediate?.fingerprint)
      throw new RotationBlockedError(
        `${this.nextName()} changed during rotation ${state.id}; roll the rotation back (change spec.rootRotation) and start it again`,
      );
    const { namespace, caSecret } = this.deps.config;
    const secret = await this.deps.kube.getSecret(namespace, nextCaSecretName(caSecret));
    if (!secret) throw new RotationBlockedError(`${this.nextName()} vanished`);
    return { next, secret };
  }

  private async currentSecret(): Promise<V1Secret> {
    const { namespace, caSecret } = this.deps.config;
    const secret = await this.deps.kube.getSecret(namespace, caSecret);
    if (!secret)
      throw new RotationBlockedError(`the CA Secret ${namespace}/${caSecret} does not exist`);
    return secret;
  }

  /** replaceCaData writes the CA Secret's data, carrying the version read (optimistic). */
  private async replaceCaData(secret: V1Secret, data: Record<string, string>): Promise<void> {
    const { kube, config } = this.deps;
    await kube.replaceSecret(config.namespace, {
      ...secret,
      metadata: { ...secret.metadata, managedFields: undefined },
      data,
    });
  }

  /** propagate puts the next roots beside the current ones in the CA Secret's ca.crt. */
  private async propagate(state: RootRotation): Promise<void> {
    const { next } = await this.loadNextOf(state);
    const secret = await this.currentSecret();
    const caPem = decodeCaSecretData(secret.data).caPem;
    const want = mergeBundles(caPem, next.trustBundlePem);
    if (!trustBundleStale(caPem, want)) return;
    await this.replaceCaData(secret, { ...secret.data, "ca.crt": b64(want) });
    this.deps.logger.info("Added the next root to the trust bundle", { rotation: state.id });
    await this.deps.recheckCa();
  }

  /** activate makes the next intermediate the signing one; both roots stay trusted. */
  private async activate(state: RootRotation): Promise<void> {
    const { next, secret: nextSecret } = await this.loadNextOf(state);
    const secret = await this.currentSecret();
    const current = decodeCaSecretData(secret.data);
    const nextPems = decodeCaSecretData(nextSecret.data);
    if (current.certPem === nextPems.certPem) return;
    // It must load under the bundle every carrier holds, exactly as the CA manager will load it.
    await loadSigningCa({ ...nextPems, rootsPem: current.caPem, now: this.deps.clock.now() });
    const earlier = text(secret.data, "previous.crt") ?? "";
    const previous = mergeBundles(current.certPem, earlier);
    await this.replaceCaData(secret, {
      "tls.crt": b64(nextPems.certPem),
      "tls.key": b64(nextPems.keyPem),
      "ca.crt": b64(current.caPem),
      "previous.crt": b64(previous),
    });
    this.deps.logger.info("The next intermediate signs now", {
      rotation: state.id,
      fingerprint: next.fingerprint,
    });
    await this.deps.recheckCa();
  }

  /**
   * retire takes the old roots out of the bundle (the next roots stay), and in bootstrap mode
   * keeps the old root as a backup Secret and makes the next root the root Secret. Every step is
   * guarded by what is stored, so a retire cut short is finished by the next reconcile.
   */
  private async retire(state: RootRotation): Promise<void> {
    const { kube, config, logger } = this.deps;
    const ns = config.namespace;
    const nextFps = (state.nextRoots ?? []).map((r) => r.fingerprint);
    const oldFps = (state.oldRoots ?? [])
      .map((r) => r.fingerprint)
      .filter((f) => !nextFps.includes(f));
    if (config.caMode === "bootstrap") await this.retireRootSecret(oldFps, nextFps);
    const secret = await this.currentSecret();
    const caPem = decodeCaSecretData(secret.data).caPem;
    const want = bundleWithout(caPem, oldFps);
    if (want === "") throw new RotationBlockedError("retiring would leave the trust bundle empty");
    if (trustBundleStale(caPem, want) || secret.data?.["previous.crt"]) {
      // Every live leaf is on the current intermediate: no previous one is needed any more.
      const { "previous.crt": _dropped, ...data } = secret.data ?? {};
      await this.replaceCaData(secret, { ...data, "ca.crt": b64(want) });
      logger.info("Removed the old root from the trust bundle", { rotation: state.id });
    }
    // The next intermediate now lives in the CA Secret; its copy (and the next root's) goes.
    const rootNext = nextRootCaSecretName(config.rootCaSecret);
    for (const name of [
      nextCaSecretName(config.caSecret),
      ...(config.caMode === "bootstrap" ? [rootNext] : []),
    ]) {
      const s = await kube.getSecret(ns, name);
      if (s) await kube.deleteSecret(ns, name, s.metadata?.uid);
    }
    await this.deps.recheckCa();
  }

  private async retireRootSecret(oldFps: string[], nextFps: string[]): Promise<void> {
    const { kube, config, logger } = this.deps;
    const ns = config.namespace;
    const root = await kube.getSecret(ns, config.rootCaSecret);
    if (!root) throw new RotationBlockedError(`${ns}/${config.rootCaSecret} does not exist`);
    const rootPems = decodeCaSecretData(root.data);
    const [rootFp] = bundleFingerprints(rootPems.certPem);
    if (rootFp && nextFps.includes(rootFp)) return; // already the next root
    if (!rootFp || !oldFps.includes(rootFp))
      throw new RotationBlockedError(
        `${ns}/${config.rootCaSecret} holds neither the old nor the next root; restore it`,
      );
    const backup = retiredRootCaSecretName(config.rootCaSecret, rootFp);
    try {
      await kube.createSecret(ns, buildCaSecret(ns, backup, encodeCaSecretData(rootPems)));
      logger.info("Kept the retired root as a backup", { secret: backup });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const nextName = nextRootCaSecretName(config.rootCaSecret);
    const next = await kube.getSecret(ns, nextName);
    if (!next) throw new RotationBlockedError(`${ns}/${nextName} does not exist`);
    await this.replaceCaData(root, { ...next.data });
  }

  /** rollback takes the next roots out of the bundle and drops the Secrets it prepared. */
  private async rollback(state: RootRotation): Promise<void> {
    const { kube, config, logger } = this.deps;
    const ns = config.namespace;
    const oldFps = (state.oldRoots ?? []).map((r) => r.fingerprint);
    const addedFps = (state.nextRoots ?? [])
      .map((r) => r.fingerprint)
      .filter((f) => !oldFps.includes(f));
    const secret = await this.currentSecret();
    const caPem = decodeCaSecretData(secret.data).caPem;
    const want = bundleWithout(caPem, addedFps);
    if (trustBundleStale(caPem, want)) {
      await this.replaceCaData(secret, { ...secret.data, "ca.crt": b64(want) });
      logger.info("Removed the next root from the trust bundle", { rotation: state.id });
    }
    // External mode: the next intermediate is the user's; it is left where they put it. Pending:
    // nothing was prepared, and what stands in the way is left for a person to look at.
    if (config.caMode === "bootstrap" && state.phase !== "Pending") {
      for (const name of [
        nextCaSecretName(config.caSecret),
        nextRootCaSecretName(config.rootCaSecret),
      ]) {
        const s = await kube.getSecret(ns, name);
        if (s) await kube.deleteSecret(ns, name, s.metadata?.uid);
      }
    }
    await this.deps.recheckCa();
  }

  /**
   * write stores the rotation in MeshCA status, carrying the version read, so a replica that
   * decided on stale state writes nothing; it records the Event and metric of a phase change.
   */
  private async write(
    mca: MeshCA,
    before: RootRotation | undefined,
    after: RootRotation,
  ): Promise<void> {
    const keys: (keyof RootRotation)[] = [
      "completed",
      "oldRoots",
      "nextRoots",
      "nextIntermediate",
      "carriersUpdatedAt",
      "leavesMovedAt",
      "carriers",
      "refused",
      "message",
    ];
    if (canonical(before) === canonical(after)) return;
    const patch: Record<string, unknown> = { ...after };
    for (const k of keys) if (after[k] === undefined) patch[k] = null;
    await this.deps.kube.patchMeshCaRotation(MESHCA_NAME, patch, mca.metadata.resourceVersion);
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
