/**
 * The MeshIdentity reconcile: counts what its pods hold, judges what only the operator can (DNS
 * names outside the namespace, conflicts, the CA), writes status only when it changed, records an
 * Event when the Ready reason changes, and keeps the namespace's trust bundle current.
 */
import { errorText } from "../errors";
import type { V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { API_VERSION, KIND } from "../../api/v1alpha1/names";
import { resolveSpec, type ResolvedSpec } from "../../api/v1alpha1/defaults";
import { Reason, findCondition, CONDITION_READY } from "../../api/v1alpha1/conditions";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { ConfigMapPort, EventPort, StatusPort } from "../kube/client";
import { buildTrustBundle } from "../kube/objects";
import { recordEvent } from "../kube/events";
import type { ReconcileResult } from "../kube/queue";
import {
  labels,
  objectKey,
  splitKey,
  trustBundleConfigMap,
  trustBundleKey,
  trustBundleLabel,
} from "../policy/naming";
import { identitySecretName } from "../policy/binding";
import { podQualifies, selectIdentity, selects } from "../policy/selection";
import { desiredCertificate } from "../policy/desired";
import { deliversPodCertificate } from "../policy/injection";
import { decideIssuance, requeueDelay } from "../policy/issuance";
import { computeStatus, statusEqual, type StatusInput } from "../policy/status";
import type { CaStatus } from "./ca-manager";
import { watch, type Controller, type Source, type Watch } from "../kube/manager";
import { canonicalIps, knownExisting, type ExistingCache } from "./existing";
import type { FailureLog } from "./failure-log";
import type { IssuanceTally } from "./issuance-tally";
import { isConflict } from "../kube/errors";
import type { PodCertificateRequest } from "../kube/pod-certificate-request";
import type { PodCertificateLedger } from "./pod-certificate-ledger";

/** IdentityObserver receives what metrics need from a MeshIdentity reconcile; it must not throw. */
export interface IdentityObserver {
  earliestExpiryChanged(namespace: string, name: string, notAfter: Date | undefined): void;
}

/** IdentityControllerDeps are the ports the MeshIdentity reconcile uses. */
export interface IdentityControllerDeps {
  pods: Source<V1Pod>;
  identities: Source<MeshIdentity>;
  secrets: Source<V1Secret>;
  /** bundles caches the trust-bundle ConfigMaps of every namespace. */
  bundles: Source<V1ConfigMap>;
  /** existing holds verified Secrets, shared with the pod reconcile. */
  existing: ExistingCache;
  kube: StatusPort & EventPort & ConfigMapPort;
  ca: () => CaStatus;
  clock: Clock;
  logger: Logger;
  config: Pick<
    Config,
    "trustDomain" | "clusterDomain" | "allowedDnsSuffixes" | "defaultDurationMs"
  >;
  failures: FailureLog;
  tally: IssuanceTally;
  /** ledger holds the pod certificates issued to PodCertificate-delivered pods. */
  ledger?: PodCertificateLedger;
  /** pcrs, when Pod Certificates are served: an answered request recounts its namespace. */
  pcrs?: Source<PodCertificateRequest>;
  /** Shortest interval between two status writes of one MeshIdentity. */
  minStatusIntervalMs?: number;
  observer?: IdentityObserver;
}

/** Reasons that are reported as Warning Events when the Ready condition turns to them. */
const warningReasons = new Set<string>([
  Reason.Conflict,
  Reason.DNSNameNotAllowed,
  Reason.DNSNameInvalid,
  Reason.InvalidSpec,
  Reason.IssueFailed,
  Reason.CANotReady,
]);

function mountsSecret(pod: V1Pod, secretName: string): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.secret?.secretName === secretName);
}

/** recountMs is the longest a MeshIdentity's counts wait behind pod and Secret churn. */
const recountMs = 1_000;

/**
 * recountBusyFactor keeps recounts to a bounded share of the event loop: a recount walks every
 * pod of the namespace, so after one that took d ms the next waits d × recountBusyFactor ms
 * (at least recountMs, at most maxRecountGapMs). With a fixed interval the recounts of a growing
 * namespace took a growing share of the time, and a cold start grew with the square of its pods.
 */
const recountBusyFactor = 20;
const maxRecountGapMs = 30_000;

/** maxDeferMs bounds how long unverified Secrets hold a status write back; deferRetryMs paces it. */
const maxDeferMs = 60_000;
const deferRetryMs = 2_000;

/** recountChunk is how many pods a recount walks between two turns of the event loop. */
const recountChunk = 500;

/** IdentityController reconciles MeshIdentity keys. */
export class IdentityController implements Controller {
  readonly name = "meshidentities";
  readonly concurrency = 2;
  private readonly lastWrite = new Map<string, number>();
  /** The last recount of each MeshIdentity: when, how long it took, of which generation. */
  private readonly recounts = new Map<string, { at: number; tookMs: number; generation: number }>();
  /** When each MeshIdentity's status write was first held back for unverified Secrets. */
  private readonly deferredSince = new Map<string, number>();

  constructor(private readonly deps: IdentityControllerDeps) {}

  /**
   * watches: a MeshIdentity's own events; its status summarises all its pods, so pod and Secret
   * events recount it at most once per recountMs, not once per event (a cold start stays linear);
   * a trust-bundle ConfigMap's events (a delete or an edit) wake the MeshIdentities of its
   * namespace, which restore it.
   */
  watches(): Watch[] {
    const { pods, secrets, identities, bundles } = this.deps;
    const ofNamespace = (ns: string | undefined) =>
      identities.list(ns ?? "").map((mi) => objectKey(ns ?? "", mi.metadata.name ?? ""));
    return [
      watch(identities, (_type, mi) => [
        objectKey(mi.metadata.namespace ?? "", mi.metadata.name ?? ""),
      ]),
      watch(pods, (_type, pod) => ofNamespace(pod.metadata?.namespace), recountMs),
      watch(
        secrets,
        (_type, secret) => {
          const identity = secret.metadata?.labels?.[labels.identity];
          return identity ? [objectKey(secret.metadata?.namespace ?? "", identity)] : [];
        },
        recountMs,
      ),
      watch(bundles, (_type, cm) => ofNamespace(cm.metadata?.namespace)),
      ...(this.deps.pcrs
        ? [watch(this.deps.pcrs, (_type, pcr) => ofNamespace(pcr.metadata?.namespace), recountMs)]
        : []),
    ];
  }

  /** allKeys is every cached MeshIdentity. */
  allKeys(): string[] {
    return this.deps.identities
      .list()
      .map((mi) => objectKey(mi.metadata.namespace ?? "", mi.metadata.name ?? ""));
  }

  /** reconcile recomputes one MeshIdentity's status. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { deps } = this;
    const { namespace, name } = splitKey(key);
    const identity = deps.identities.get(key);
    if (!identity || identity.metadata.deletionTimestamp) {
      deps.failures.forget(key);
      deps.observer?.earliestExpiryChanged(namespace, name, undefined);
      this.lastWrite.delete(key);
      this.recounts.delete(key);
      this.deferredSince.delete(key);
      return {};
    }
    const log = deps.logger.child({ controller: "meshidentity", namespace, name });
    const now = deps.clock.now();
    const generation = identity.metadata.generation ?? 0;
    const last = this.recounts.get(key);
    if (last && last.generation === generation) {
      const gap = Math.min(Math.max(last.tookMs * recountBusyFactor, 0), maxRecountGapMs);
      const wait = last.at + gap - now.getTime();
      if (wait > 0) return { requeueAfterMs: wait }; // a spec change (generation) never waits
    }
    const ca = deps.ca();
    const { input, earliestExpiry, tookMs, unverified } = await this.gather(identity, ca, now);
    this.recounts.set(key, { at: now.getTime(), tookMs, generation });
    deps.observer?.earliestExpiryChanged(namespace, name, earliestExpiry);
    const status = computeStatus(input);
    const deferMs = this.deferral(key, unverified, now);
    if (deferMs > 0 && !statusEqual(identity.status, status)) return { requeueAfterMs: deferMs };

    if (!statusEqual(identity.status, status)) {
      const wait = this.throttle(key, now);
      if (wait > 0) return { requeueAfterMs: wait };
      await deps.kube.patchMeshIdentityStatus(namespace, name, {
        ...status,
        nextRenewalTime: status.nextRenewalTime ?? null,
      });
      this.lastWrite.set(key, now.getTime());
      const before = findCondition(identity.status?.conditions, CONDITION_READY);
      const after = findCondition(status.conditions, CONDITION_READY)!;
      if (before?.reason !== after.reason) {
        // Listed objects carry no apiVersion or kind.
        const subject = { apiVersion: API_VERSION, kind: KIND, metadata: identity.metadata };
        log.info("Ready condition changed", {
          status: after.status,
          reason: after.reason,
          detail: after.message,
        });
        if (warningReasons.has(after.reason))
          recordEvent(deps, subject, "Warning", after.reason, after.message);
        else if (after.status === "True" && before?.status !== "True")
          recordEvent(deps, subject, "Normal", after.reason, after.message);
      }
    }
    const issued = deps.tally.drain(key);
    if (issued)
      recordEvent(
        deps,
        { apiVersion: API_VERSION, kind: KIND, metadata: identity.metadata },
        "Normal",
        "Issued",
        issued,
      );
    if (ca.ready) await this.ensureTrustBundle(namespace, ca.ca.trustBundlePem);
    return input.nextRenewal ? { requeueAfterMs: requeueDelay(input.nextRenewal, now) } : {};
  }

  /**
   * deferral is how long to hold a status write back while Secrets of the MeshIdentity await
   * their first verification (after a restart the cache holds no certificate: each is read and
   * verified by its pod's reconcile): counted as pending, they would flap Ready to False and
   * back. Held back at most maxDeferMs, so a Secret that cannot be read does not freeze status.
   */
  private deferral(key: string, unverified: number, now: Date): number {
    if (unverified === 0) {
      this.deferredSince.delete(key);
      return 0;
    }
    const since = this.deferredSince.get(key) ?? now.getTime();
    this.deferredSince.set(key, since);
    return since + maxDeferMs > now.getTime() ? deferRetryMs : 0;
  }

  private throttle(key: string, now: Date): number {
    const last = this.lastWrite.get(key);
    const min = this.deps.minStatusIntervalMs ?? 1_000;
    return last === undefined ? 0 : Math.max(0, last + min - now.getTime());
  }

  /**
   * gather walks the namespace's pods, yielding to the event loop every recountChunk pods: one
   * walk over 10,000 pods blocked the loop for a quarter of a second. tookMs is the walk's own
   * time, without what ran in between.
   */
  private async gather(
    identity: MeshIdentity,
    ca: CaStatus,
    now: Date,
  ): Promise<{ input: StatusInput; earliestExpiry?: Date; tookMs: number; unverified: number }> {
    const { deps } = this;
    const namespace = identity.metadata.namespace ?? "";
    const key = objectKey(namespace, identity.metadata.name ?? "");
    const input: StatusInput = {
      generation: identity.metadata.generation ?? 0,
      ...(identity.status ? { previous: identity.status } : {}),
      // The reason code (e.g. CASecretMissing) leads the message, so status names the fault.
      ca: ca.ready ? { ready: true } : { ready: false, message: `${ca.reason}: ${ca.message}` },
      selected: 0,
      conflicts: 0,
      issued: 0,
      restartRequired: 0,
      now,
    };
    let spec: ResolvedSpec | undefined;
    try {
      spec = resolveSpec(identity.spec, { defaultDurationMs: deps.config.defaultDurationMs });
    } catch (err) {
      input.specProblem = {
        reason: Reason.InvalidSpec,
        message: errorText(err),
      };
    }
    const peers = deps.identities.list(namespace);
    const dnsPolicy = {
      clusterDomain: deps.config.clusterDomain,
      extraSuffixes: deps.config.allowedDnsSuffixes,
    };
    let pending = 0;
    let unverified = 0;
    let earliestExpiry: Date | undefined;
    let tookMs = 0;
    let chunkStart = deps.clock.now().getTime();
    let walked = 0;
    for (const pod of deps.pods.list(namespace)) {
      if (++walked % recountChunk === 0) {
        tookMs += deps.clock.now().getTime() - chunkStart;
        await new Promise((resolve) => setImmediate(resolve));
        chunkStart = deps.clock.now().getTime();
      }
      if (!podQualifies(pod) || !selects(identity, pod)) continue;
      input.selected++;
      if (selectIdentity(pod, peers).winner?.metadata.name !== identity.metadata.name) {
        input.conflicts++;
        continue;
      }
      if (!spec) continue;
      const want = desiredCertificate(pod, spec, deps.config.trustDomain, dnsPolicy);
      if (!want.ok) {
        input.specProblem ??= { reason: want.reason, message: want.message };
        continue;
      }
      if (deliversPodCertificate(spec.delivery, pod)) {
        // kubelet holds the certificate; the ledger remembers what meshid issued to this pod.
        const held = deps.ledger?.current(pod.metadata?.uid ?? "", now);
        if (!held) {
          pending++;
          continue;
        }
        input.issued++;
        if (!earliestExpiry || held.notAfter < earliestExpiry) earliestExpiry = held.notAfter;
        if (!input.nextRenewal || held.beginRefreshAt < input.nextRenewal)
          input.nextRenewal = held.beginRefreshAt;
        continue;
      }
      const secretName = identitySecretName(pod);
      const secret =
        secretName === undefined ? undefined : deps.secrets.get(objectKey(namespace, secretName));
      if (secretName === undefined || !secret || !ca.ready) {
        pending++;
        continue;
      }
      // Verified once per Secret version (and seeded by the pod reconcile when it writes); a
      // version without a verdict yet counts as pending until the pod reconcile has verified it.
      const existing = knownExisting(secret, ca.ca, deps.existing);
      if (!existing) {
        pending++;
        unverified++;
        continue;
      }
      const desired = { ...want.desired, ipAddresses: canonicalIps(want.desired.ipAddresses) };
      const decision = decideIssuance(desired, existing, { podUid: pod.metadata?.uid ?? "", now });
      // A certificate whose renewal is merely due (or asked for) is current until renewed.
      const current =
        !decision.issue || decision.reason === "renewal" || decision.reason === "requested";
      if (!current) {
        pending++;
        continue;
      }
      input.issued++;
      if (existing.notAfter && (!earliestExpiry || existing.notAfter < earliestExpiry))
        earliestExpiry = existing.notAfter;
      if (existing.renewAt && (!input.nextRenewal || existing.renewAt < input.nextRenewal))
        input.nextRenewal = existing.renewAt;
      if (!mountsSecret(pod, secretName)) input.restartRequired++;
    }
    const failure = pending > 0 ? deps.failures.latest(key) : undefined;
    if (failure) input.failure = failure;
    tookMs += deps.clock.now().getTime() - chunkStart;
    return { input, ...(earliestExpiry ? { earliestExpiry } : {}), tookMs, unverified };
  }

  /**
   * ensureTrustBundle makes the namespace's bundle ConfigMap hold `bundlePem` with meshid's
   * labels. It reads the watched cache, so a deleted or edited bundle is restored as soon as its
   * event re-queues this MeshIdentity, and an unchanged one costs no request.
   */
  private async ensureTrustBundle(namespace: string, bundlePem: string): Promise<void> {
    const { kube, bundles } = this.deps;
    const intact = (cm: V1ConfigMap | undefined) =>
      cm?.data?.[trustBundleKey] === bundlePem &&
      cm.metadata?.labels?.[trustBundleLabel] === "true";
    const cached = bundles.get(objectKey(namespace, trustBundleConfigMap));
    if (intact(cached)) return;
    let found = cached;
    if (!found) {
      try {
        await kube.createConfigMap(namespace, buildTrustBundle(namespace, bundlePem));
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        found = await kube.getConfigMap(namespace, trustBundleConfigMap);
        if (!found || intact(found)) return;
      }
    }
    await kube.replaceConfigMap(
      namespace,
      buildTrustBundle(namespace, bundlePem, found.metadata?.resourceVersion),
    );
    this.deps.logger.info("Restored trust bundle", { namespace, configMap: trustBundleConfigMap });
  }
}
