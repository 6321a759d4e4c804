/**
 * The pod reconcile: gather (caches) → decide (policy/) → issue (pki/) → build (kube/objects) →
 * one write. Given a pod key, it makes sure the pod holds exactly one current certificate for its
 * own identity, or none when nothing selects it, and says when to look again.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { resolveSpec, type ResolvedSpec } from "../../api/v1alpha1/defaults";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { EventPort, SecretPort } from "../kube/client";
import { isConflict } from "../kube/errors";
import { b64, buildPodSecret, isSlim, secretText, slimSecret } from "../kube/objects";
import { recordEvent } from "../kube/events";
import type { ReconcileResult } from "../kube/queue";
import { annotations, maxPodNameLength, objectKey, splitKey } from "../policy/naming";
import {
  identitySecretName,
  podOwnerUid,
  secretConflictMessage,
  secretHolder,
  type SecretHolder,
} from "../policy/binding";
import { renewRequestOf } from "../policy/renew-request";
import { specWindowFor, spreadWindowMs, type Pacing, type SpecWindow } from "../policy/pacing";
import { deliversPodCertificate } from "../policy/injection";
import { podQualifies, selectIdentity } from "../policy/selection";
import { desiredCertificate } from "../policy/desired";
import {
  decideIssuance,
  desiredContents,
  keyMayBeKept,
  requeueDelay,
  specHash,
  trustBundleStale,
  type DesiredCertificate,
  type IssueReason,
  type PacedReason,
  type PacedWindow,
} from "../policy/issuance";
import { issueCertificate } from "./issue";
import type { CaStatus } from "./ca-manager";
import type { SigningCa } from "../pki";
import {
  cacheId,
  canonicalIps,
  gatherExisting,
  knownExisting,
  type ExistingCache,
  type GatheredCertificate,
} from "./existing";
import type { FailureLog } from "./failure-log";
import type { IssuanceTally } from "./issuance-tally";
import { Pacer } from "./pacer";
import { podsByUid, secretsByPod, type Cache } from "./cache";
import { watch, type Controller, type Source, type Watch } from "../kube/manager";
import { errorText, MeshIdError } from "../errors";

/** IssuanceObserver receives what metrics need; it must not throw. */
export interface IssuanceObserver {
  issued(namespace: string, reason: IssueReason, pod: V1Pod): void;
  failed(reason: string): void;
  /** podSeen and podGone bracket a pod's life, for the issuance latency. */
  podSeen?(key: string): void;
  podGone?(key: string): void;
}

/** PodControllerDeps are the ports the pod reconcile uses. */
export interface PodControllerDeps {
  pods: Source<V1Pod>;
  identities: Source<MeshIdentity>;
  secrets: Source<V1Secret>;
  kube: SecretPort & EventPort;
  ca: () => CaStatus;
  clock: Clock;
  /** random in [0, 1): the renewal jitter, drawn once per issuance. */
  random: () => number;
  logger: Logger;
  config: Pick<
    Config,
    | "trustDomain"
    | "clusterDomain"
    | "allowedDnsSuffixes"
    | "defaultDurationMs"
    | "concurrency"
    | "reissueRate"
  >;
  existing: ExistingCache;
  failures: FailureLog;
  /** Counts issuances for the MeshIdentity's summary Event. */
  tally: IssuanceTally;
  observer?: IssuanceObserver;
}

/** caRetryMs is how soon a pod is looked at again while the CA is not ready. */
const caRetryMs = 15_000;

/** conflictRetryMs is how soon a pod whose Secret name is held by another is looked at again. */
const conflictRetryMs = 60_000;

/** managedSecretsOfPod lists the managed Secrets owned by this pod. */
function managedSecretsOfPod(
  secrets: Cache<V1Secret>,
  namespace: string,
  podName: string,
): V1Secret[] {
  return secrets.byIndex(secretsByPod.name, objectKey(namespace, podName));
}

/** podSubject names a pod for an Event; listed pods carry no apiVersion or kind. */
function podSubject(pod: V1Pod) {
  return { apiVersion: "v1", kind: "Pod", metadata: pod.metadata };
}

/** heldByAnother: the Secret name is taken by something this pod must never touch. */
function heldByAnother(holder: SecretHolder): boolean {
  return holder.kind === "foreign" || holder.kind === "other-pod";
}

/** keyOf is the queue key of a namespaced object. */
function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return objectKey(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "");
}

const pacedReasons: readonly string[] = [
  "ca-change",
  "spec-change",
  "requested",
] satisfies PacedReason[];

/** isPaced tells whether a re-issue belongs to a mass change, whose starts the pacer spaces. */
function isPaced(reason: IssueReason): reason is PacedReason {
  return pacedReasons.includes(reason);
}

/** PodController reconciles one pod key at a time (the queue guarantees it). */
export class PodController implements Controller {
  readonly name = "pods";
  /** Secrets this replica just wrote, until the informer cache has caught up with them. */
  private readonly written = new Map<string, { secret: V1Secret; at: number }>();
  /** Pods whose Secret conflict has been reported, so a retry does not repeat the Event. */
  private readonly conflicts = new Map<string, string>();
  /** Pods waiting for their slot of a paced mass re-issue, by what they wait for. */
  private readonly waiting = new Map<string, PacedReason>();
  /**
   * When this replica first reconciled a pod under each MeshIdentity's current spec (by
   * generation): the start of the paced re-issue of the certificates that no longer match it. After
   * a restart the window opens again, so a restart during a spec change does not re-issue at once.
   */
  private readonly specSeen = new Map<string, SpecWindow>();
  /** Caps the starts of paced re-issues at --reissue-rate. */
  private readonly pacer: Pacer;

  constructor(private readonly deps: PodControllerDeps) {
    this.pacer = new Pacer(deps.clock, deps.config.reissueRate);
  }

  get concurrency(): number {
    return this.deps.config.concurrency;
  }

  /**
   * watches: a pod's own events; a Secret's events wake the pod it is bound to (a deleted or
   * tampered Secret is replaced at once); a MeshIdentity's events wake every pod of its namespace,
   * but only when its spec or renewal request changed: its own status writes come back as events
   * too, and re-queueing every pod for them stalled large cold starts.
   */
  watches(): Watch[] {
    const { pods, secrets, identities, observer } = this.deps;
    const seen = new Map<string, string>();
    return [
      watch(pods, (type, pod) => {
        const key = keyOf(pod);
        if (type === "DELETED") observer?.podGone?.(key);
        else observer?.podSeen?.(key);
        return [key];
      }),
      watch(secrets, (_type, secret) => {
        this.forgetEchoed(secret);
        const owner = secret.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
        return owner ? [objectKey(secret.metadata?.namespace ?? "", owner.name)] : [];
      }),
      watch(identities, (type, mi) => {
        const key = keyOf(mi);
        if (type === "DELETED") this.specSeen.delete(key);
        const version = `${mi.metadata?.generation}/${mi.metadata?.annotations?.[annotations.renewRequestedAt]}`;
        const changed = type !== "MODIFIED" || seen.get(key) !== version;
        if (type === "DELETED") seen.delete(key);
        else seen.set(key, version);
        return changed ? pods.list(mi.metadata?.namespace).map(keyOf) : [];
      }),
    ];
  }

  /**
   * specWindow paces the re-issue of certificates that no longer match their MeshIdentity's spec:
   * a window opened when this replica first reconciled a pod under a new generation (or the one
   * still open then), holding every pod the MeshIdentity selects at the configured rate.
   */
  private specWindow(key: string, mi: MeshIdentity, pacing: Pacing): PacedWindow {
    const spreadMs = spreadWindowMs(mi.status?.selectedPods ?? 0, pacing);
    const seen = specWindowFor(
      this.specSeen.get(key),
      mi.metadata.generation ?? 0,
      this.deps.clock.now(),
      spreadMs,
    );
    this.specSeen.set(key, seen);
    return { since: seen.since, spreadMs };
  }

  /** pacedWaiting counts the pods waiting for their slot of a paced re-issue, by reason. */
  pacedWaiting(): Record<PacedReason, number> {
    const counts = { "ca-change": 0, "spec-change": 0, requested: 0 };
    for (const reason of this.waiting.values()) counts[reason]++;
    return counts;
  }

  /** allKeys is every cached pod. */
  allKeys(): string[] {
    return this.deps.pods.list().map(keyOf);
  }

  /** reconcile brings one pod to its desired state. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { deps } = this;
    const { namespace, name } = splitKey(key);
    const log = deps.logger.child({ controller: "pod", namespace, name });
    const pod = deps.pods.get(key);
    const owned = managedSecretsOfPod(deps.secrets, namespace, name);

    this.waiting.delete(key);
    if (!pod || !podQualifies(pod)) {
      log.debug("Pod is gone or finished", { secrets: owned.length });
      this.conflicts.delete(key);
      this.pacer.release(key);
      await this.deleteSecrets(owned, log, "pod is gone or finished");
      return {};
    }
    const { winner } = selectIdentity(pod, deps.identities.list(namespace));
    if (!winner) {
      await this.deleteSecrets(this.disposable(owned, pod), log, "no MeshIdentity selects the pod");
      return {};
    }
    const ca = deps.ca();
    if (!ca.ready) return { requeueAfterMs: caRetryMs };

    const identityKey = objectKey(namespace, winner.metadata.name ?? "");
    let spec;
    try {
      spec = resolveSpec(winner.spec, { defaultDurationMs: deps.config.defaultDurationMs });
    } catch {
      return {}; // reported on the MeshIdentity's status; a spec change re-queues the pod
    }
    if (deliversPodCertificate(spec.delivery, pod)) {
      // kubelet holds the key and asks the signer (pcr-controller.ts): no Secret for this pod.
      await this.deleteSecrets(this.disposable(owned, pod), log, "delivery is PodCertificate");
      return {};
    }
    const want = desiredCertificate(pod, spec, deps.config.trustDomain, {
      clusterDomain: deps.config.clusterDomain,
      extraSuffixes: deps.config.allowedDnsSuffixes,
    });
    if (!want.ok) return {}; // DNSNameNotAllowed and friends: reported on the MeshIdentity
    const desired: DesiredCertificate = {
      ...want.desired,
      ipAddresses: canonicalIps(want.desired.ipAddresses),
    };

    const secretName = identitySecretName(pod);
    if (secretName === undefined) {
      // Reported once on the pod and on the MeshIdentity; a new pod is a new key.
      const message = `pod name ${pod.metadata?.name?.length ?? 0} characters long: meshid holds identities only for pod names of at most ${maxPodNameLength} characters (its Secret is meshid-<pod>)`;
      deps.failures.record(identityKey, key, message);
      if (!this.conflicts.has(key)) {
        this.conflicts.set(key, "");
        deps.observer?.failed("PodNameTooLong");
        recordEvent(this.deps, podSubject(pod), "Warning", "PodNameTooLong", message);
      }
      return {};
    }
    await this.deleteSecrets(
      this.disposable(owned, pod).filter((s) => s.metadata?.name !== secretName),
      log,
      "the pod mounts another Secret",
    );
    const isLive = (uid: string) => this.isLivePod(uid);
    let current = this.currentSecret(namespace, secretName);
    let existing: GatheredCertificate | undefined;
    if (current && !heldByAnother(secretHolder(current, pod, isLive))) {
      ({ current, existing } = await this.verified(current, ca.ca));
    }
    const holder = secretHolder(current, pod, isLive);
    if (heldByAnother(holder)) {
      this.reportConflict(pod, secretName, holder, identityKey, log);
      log.debug("Secret held by another; waiting", { secret: secretName, holder: holder.kind });
      return { requeueAfterMs: conflictRetryMs };
    }
    this.conflicts.delete(key);
    const now = deps.clock.now();
    const pacing = { ratePerSecond: deps.config.reissueRate };
    const renewRequest = renewRequestOf(
      pod.metadata,
      winner.metadata,
      winner.status?.selectedPods,
      pacing,
    );
    // A CA change concerns every pod: its window holds them all at the configured rate. Listing
    // the pods costs a copy, so it is done only for a leaf of the previous CA.
    const caChange =
      ca.since && existing?.chain === "other-trusted"
        ? { since: ca.since, spreadMs: spreadWindowMs(deps.pods.list().length, pacing) }
        : undefined;
    const specChange = this.specWindow(identityKey, winner, pacing);
    const decision = decideIssuance(desired, existing, {
      podUid: pod.metadata?.uid ?? "",
      now,
      ...(renewRequest ? { renewRequest } : {}),
      ...(caChange ? { caChange } : {}),
      specChange,
    });
    if (decision.issue && isPaced(decision.reason)) {
      const wait = this.pacer.take(key);
      if (wait > 0) {
        this.waiting.set(key, decision.reason);
        if (current && existing) await this.refreshTrustBundle(current, existing, ca.ca, log);
        return { requeueAfterMs: wait };
      }
    } else this.pacer.release(key);
    if (!decision.issue) {
      if (decision.paced) this.waiting.set(key, decision.paced);
      if (current && existing) await this.refreshTrustBundle(current, existing, ca.ca, log);
      log.debug("Certificate is current", {
        secret: secretName,
        renewAt: decision.renewAt.toISOString(),
      });
      return { requeueAfterMs: requeueDelay(decision.renewAt, now) };
    }
    log.debug("Issuing certificate", {
      secret: secretName,
      reason: decision.reason,
      identity: winner.metadata.name,
    });
    if (decision.reason === "invalid") {
      const message = `Secret ${secretName} held a certificate meshid does not accept (${decision.detail ?? "invalid"}); issuing a new one`;
      log.warn("Replacing an invalid certificate", { secret: secretName, detail: decision.detail });
      recordEvent(this.deps, podSubject(pod), "Warning", "InvalidCertificate", message);
    }

    try {
      const renewedFor = decision.reason === "requested" ? renewRequest?.at : undefined;
      const target = { secretName, current, existing, renewedFor };
      const stored = await this.issue(pod, winner, spec, desired, target, log);
      if (!stored) return { requeueAfterMs: conflictRetryMs };
      const { secret, renewAt, serialHex, notAfter } = stored;
      this.remember(objectKey(namespace, secretName), secret, now);
      deps.failures.clear(identityKey, key);
      deps.observer?.issued(namespace, decision.reason, pod);
      log.info("Issued certificate", {
        secret: secretName,
        reason: decision.reason,
        spiffeId: desired.spiffeId,
        serial: serialHex,
        notAfter: notAfter.toISOString(),
        renewAt: renewAt.toISOString(),
      });
      deps.tally.record(identityKey, decision.reason);
      return { requeueAfterMs: requeueDelay(renewAt, deps.clock.now()) };
    } catch (err) {
      if (err instanceof MeshIdError && err.retryable) throw err;
      if (isConflict(err)) throw err;
      const message = errorText(err);
      deps.failures.record(identityKey, key, message);
      deps.observer?.failed(err instanceof MeshIdError ? err.code : "Unknown");
      log.error("Failed to issue certificate", err instanceof Error ? err : { error: message });
      recordEvent(
        this.deps,
        podSubject(pod),
        "Warning",
        "IssueFailed",
        `Failed to issue certificate into Secret ${secretName}: ${message}`,
      );
      throw err;
    }
  }

  /**
   * issue signs a certificate for `desired` and writes it: a create when the name is free, an
   * optimistic replace of the pod's own (or a stale) Secret otherwise. Undefined when the create
   * met a Secret held by someone else.
   */
  private async issue(
    pod: V1Pod,
    winner: MeshIdentity,
    spec: ResolvedSpec,
    desired: DesiredCertificate,
    target: {
      secretName: string;
      current: V1Secret | undefined;
      existing: GatheredCertificate | undefined;
      renewedFor: Date | undefined;
    },
    log: Logger,
  ): Promise<{ secret: V1Secret; renewAt: Date; serialHex: string; notAfter: Date } | undefined> {
    const { deps } = this;
    const { secretName, current, existing, renewedFor } = target;
    const ca = deps.ca();
    if (!ca.ready) throw new MeshIdError("CANotReady", ca.message, { retryable: true });
    const namespace = pod.metadata?.namespace ?? "";
    const now = deps.clock.now();
    const { keyPem, leaf, renewAt } = await issueCertificate(ca.ca, {
      key: desired.key,
      ...(existing?.keyPem && keyMayBeKept(existing, desired.key, desired.spiffeId)
        ? { reuseKeyPem: existing.keyPem }
        : {}),
      spiffeId: desired.spiffeId,
      dnsNames: desired.dnsNames,
      ipAddresses: desired.ipAddresses,
      usages: desired.usages,
      durationMs: desired.durationMs,
      renewBeforeMs: desired.renewBeforeMs,
      now,
      jitter: deps.random(),
    });
    const secret = buildPodSecret({
      pod,
      secretName,
      identityName: winner.metadata.name ?? "",
      identityGeneration: winner.metadata.generation ?? 0,
      certChainPem: leaf.certChainPem,
      keyPem,
      trustBundlePem: ca.ca.trustBundlePem,
      specHash: specHash(desired),
      issuerFingerprint: leaf.issuerFingerprint,
      serialHex: leaf.serialHex,
      notAfter: leaf.notAfter,
      renewAt,
      ...(renewedFor ? { renewedFor } : {}),
      ...(desired.ipAddresses[0] ? { podIp: desired.ipAddresses[0] } : {}),
      template: spec.secretTemplate,
      ...(current?.metadata?.resourceVersion
        ? { resourceVersion: current.metadata.resourceVersion }
        : {}),
    });
    const identityKey = objectKey(namespace, winner.metadata.name ?? "");
    const stored = await this.write(
      namespace,
      secret,
      current !== undefined,
      pod,
      identityKey,
      log,
    );
    if (!stored) return undefined;
    // What was just written needs no parsing: seed the cache with what it certifies.
    const id = cacheId(stored, ca.ca);
    if (id)
      deps.existing.set(id, {
        readable: true,
        keyMatches: true,
        chain: "current",
        issuerFingerprint: ca.ca.fingerprint,
        ownerUid: pod.metadata?.uid ?? "",
        recordedPodUid: pod.metadata?.uid ?? "",
        contents: desiredContents(desired),
        issuedAt: now,
        notAfter: leaf.notAfter,
        renewAt,
        ...(renewedFor ? { renewedFor } : {}),
        // Kept only where it may be certified again: a key per Secret is memory at 10,000 pods.
        ...(desired.key.rotationPolicy === "Never" ? { keyPem } : {}),
      });
    return { secret: stored, renewAt, serialHex: leaf.serialHex, notAfter: leaf.notAfter };
  }

  /**
   * refreshTrustBundle rewrites only ca.crt of a kept Secret whose bundle is not the one meshid
   * trusts now (a root added or retired): the certificate and key stay, so nothing is re-issued.
   */
  private async refreshTrustBundle(
    current: V1Secret,
    existing: GatheredCertificate,
    ca: SigningCa,
    log: Logger,
  ): Promise<void> {
    if (!trustBundleStale(secretText(current.data, "ca.crt"), ca.trustBundlePem)) return;
    const namespace = current.metadata?.namespace ?? "";
    const name = current.metadata?.name ?? "";
    // A cached copy has no tls.crt or tls.key: replacing with it would erase them.
    const whole = isSlim(current) ? await this.deps.kube.getSecret(namespace, name) : current;
    if (!whole || whole.metadata?.resourceVersion !== current.metadata?.resourceVersion) return;
    const refreshed = await this.deps.kube.replaceSecret(namespace, {
      ...whole,
      data: {
        ...whole.data,
        "ca.crt": b64(ca.trustBundlePem),
      },
    });
    const key = objectKey(namespace, name);
    this.remember(key, refreshed, this.deps.clock.now());
    // The certificate did not change: what was verified of it still holds for the new version.
    const id = cacheId(refreshed, ca);
    if (id) this.deps.existing.set(id, existing);
    log.info("Refreshed the trust bundle of a certificate Secret", { secret: name });
  }

  /**
   * verified is the verdict on a Secret: remembered for its version (what this replica wrote, or
   * verified before), else read whole from the API server — the cache holds no tls.crt or
   * tls.key — and verified by signature. A Secret gone meanwhile is undefined.
   */
  private async verified(
    secret: V1Secret,
    ca: SigningCa,
  ): Promise<{ current: V1Secret | undefined; existing: GatheredCertificate | undefined }> {
    const known = knownExisting(secret, ca, this.deps.existing);
    if (known) return { current: secret, existing: known };
    const whole = await this.deps.kube.getSecret(
      secret.metadata?.namespace ?? "",
      secret.metadata?.name ?? "",
    );
    if (!whole) return { current: undefined, existing: undefined };
    return { current: whole, existing: gatherExisting(whole, ca, this.deps.existing) };
  }

  /** isLivePod tells whether a pod with this UID is in the cache and not finished. */
  private isLivePod(uid: string): boolean {
    return this.deps.pods.byIndex(podsByUid.name, uid).some(podQualifies);
  }

  /**
   * disposable keeps the Secrets of `owned` that may be deleted for `pod`: its own, and those of
   * a pod of the same name that no longer exists. A Secret bound to a live pod is never deleted.
   */
  private disposable(owned: V1Secret[], pod: V1Pod): V1Secret[] {
    const uid = pod.metadata?.uid;
    return owned.filter((s) => {
      const owner = podOwnerUid(s);
      return owner === uid || owner === undefined || !this.isLivePod(owner);
    });
  }

  private reportConflict(
    pod: V1Pod,
    secretName: string,
    holder: SecretHolder,
    identityKey: string,
    log: Logger,
  ): void {
    const key = objectKey(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
    const message = secretConflictMessage(secretName, holder);
    this.deps.failures.record(identityKey, key, message);
    if (this.conflicts.get(key) === secretName) return;
    this.conflicts.set(key, secretName);
    log.warn("Secret name held by another", { secret: secretName, holder: holder.kind });
    this.deps.observer?.failed("SecretConflict");
    recordEvent(this.deps, podSubject(pod), "Warning", "SecretConflict", message);
  }

  /**
   * remember keeps what this replica just wrote until the cache has caught up, as the informer
   * would cache it: during a cold start the echo of a write waits behind every other pod, and
   * whole Secrets kept that long were tens of megabytes. Its verdict is in the existing cache.
   */
  private remember(key: string, secret: V1Secret, now: Date): void {
    // The informer already delivered this version: nothing to remember.
    if (this.deps.secrets.get(key)?.metadata?.resourceVersion === secret.metadata?.resourceVersion)
      return;
    this.written.set(key, { secret: slimSecret(secret), at: now.getTime() });
  }

  /**
   * forgetEchoed drops what this replica wrote once the informer delivers that very version: from
   * then on the cache is as fresh as the copy, and whatever comes after (another writer's edit, a
   * delete and re-create) must be judged from the cache, never by the copy's verdict.
   */
  private forgetEchoed(secret: V1Secret): void {
    const key = objectKey(secret.metadata?.namespace ?? "", secret.metadata?.name ?? "");
    const mine = this.written.get(key)?.secret.metadata;
    if (mine && mine.resourceVersion === secret.metadata?.resourceVersion) this.written.delete(key);
  }

  /**
   * currentSecret is the freshest copy of a managed Secret: the cache, or what this replica just
   * wrote while the informer has not delivered it yet. A cached Secret of another uid was deleted
   * and re-created by someone else: the cache is the truth then.
   */
  private currentSecret(namespace: string, name: string): V1Secret | undefined {
    const key = objectKey(namespace, name);
    const cached = this.deps.secrets.get(key);
    const mine = this.written.get(key);
    if (!mine) return cached;
    const fresh = this.deps.clock.now().getTime() - mine.at < 60_000;
    const same = (f: "resourceVersion" | "uid") =>
      cached?.metadata?.[f] === mine.secret.metadata?.[f];
    if (same("resourceVersion") || (cached && !same("uid")) || !fresh) {
      this.written.delete(key);
      return cached;
    }
    return mine.secret;
  }

  /** write creates or replaces the Secret; undefined when another holds the name. */
  private async write(
    namespace: string,
    secret: V1Secret,
    replace: boolean,
    pod: V1Pod,
    identityKey: string,
    log: Logger,
  ): Promise<V1Secret | undefined> {
    const { kube } = this.deps;
    if (replace) return kube.replaceSecret(namespace, secret);
    try {
      return await kube.createSecret(namespace, secret);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const name = secret.metadata?.name ?? "";
      const found = await kube.getSecret(namespace, name);
      const holder = secretHolder(found, pod, (uid) => this.isLivePod(uid));
      if (holder.kind === "foreign" || holder.kind === "other-pod") {
        this.reportConflict(pod, name, holder, identityKey, log);
        return undefined;
      }
      throw err; // ours, and the cache is behind: retry with the fresh copy
    }
  }

  private async deleteSecrets(secrets: V1Secret[], log: Logger, why: string): Promise<void> {
    for (const s of secrets) {
      const name = s.metadata?.name ?? "";
      await this.deps.kube.deleteSecret(s.metadata?.namespace ?? "", name, s.metadata?.uid);
      this.written.delete(objectKey(s.metadata?.namespace ?? "", name));
      log.info("Deleted certificate Secret", { secret: name, why });
    }
  }
}
