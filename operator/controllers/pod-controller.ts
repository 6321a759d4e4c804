/**
 * The pod reconcile: gather (caches) → decide (policy/) → issue (pki/) → build (kube/objects) →
 * one write. Given a pod key, it makes sure the pod holds exactly one current certificate for its
 * own identity, or none when nothing selects it, and says when to look again.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { resolveSpec } from "../../api/v1alpha1/defaults";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { EventPort, SecretPort } from "../kube/client";
import { isConflict } from "../kube/errors";
import { buildPodSecret } from "../kube/objects";
import { recordEvent } from "../kube/events";
import type { ReconcileResult } from "../kube/queue";
import {
  annotations,
  labels,
  managedValue,
  objectKey,
  podSecretName,
  splitKey,
} from "../policy/naming";
import { podQualifies, selectIdentity } from "../policy/selection";
import { desiredCertificate } from "../policy/desired";
import {
  decideIssuance,
  renewalTime,
  requeueDelay,
  specHash,
  type IssueReason,
} from "../policy/issuance";
import { generateKey, issueLeaf, publicKeyFromPrivate } from "../pki";
import type { CaStatus } from "./ca-manager";
import { gatherExisting, type ExistingCache } from "./existing";
import type { FailureLog } from "./failure-log";
import type { IssuanceTally } from "./issuance-tally";
import { secretsByPod, type Cache } from "./cache";
import { MeshIdError } from "../errors";

/** IssuanceObserver receives what metrics need; it must not throw. */
export interface IssuanceObserver {
  issued(namespace: string, reason: IssueReason, pod: V1Pod): void;
  failed(reason: string): void;
}

/** PodControllerDeps are the ports the pod reconcile uses. */
export interface PodControllerDeps {
  pods: Cache<V1Pod>;
  identities: Cache<MeshIdentity>;
  secrets: Cache<V1Secret>;
  kube: SecretPort & EventPort;
  ca: () => CaStatus;
  clock: Clock;
  /** random in [0, 1): the renewal jitter, drawn once per issuance. */
  random: () => number;
  logger: Logger;
  config: Pick<
    Config,
    "trustDomain" | "clusterDomain" | "allowedDnsSuffixes" | "defaultDurationMs"
  >;
  existing: ExistingCache;
  failures: FailureLog;
  /** Counts issuances for the MeshIdentity's summary Event. */
  tally: IssuanceTally;
  observer?: IssuanceObserver;
}

/** caRetryMs is how soon a pod is looked at again while the CA is not ready. */
const caRetryMs = 15_000;
/** blockedRetryMs is how soon a pod is looked at again after a problem only a human can fix. */
const blockedRetryMs = 5 * 60_000;

/** targetSecretName is the Secret the pod mounts (webhook annotation) or its deterministic name. */
export function targetSecretName(pod: V1Pod): string {
  const fromWebhook = pod.metadata?.annotations?.[annotations.secret];
  if (fromWebhook && /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(fromWebhook)) return fromWebhook;
  return podSecretName(pod.metadata?.name ?? "");
}

/** managedSecretsOfPod lists the managed Secrets owned by this pod. */
export function managedSecretsOfPod(
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

/** PodController reconciles one pod key at a time (the queue guarantees it). */
export class PodController {
  /** Secrets this replica just wrote, until the informer cache has caught up with them. */
  private readonly written = new Map<string, { secret: V1Secret; at: number }>();

  constructor(private readonly deps: PodControllerDeps) {}

  /** reconcile brings one pod to its desired state. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { deps } = this;
    const { namespace, name } = splitKey(key);
    const log = deps.logger.child({ controller: "pod", namespace, name });
    const pod = deps.pods.get(key);
    const owned = managedSecretsOfPod(deps.secrets, namespace, name);

    if (!pod || !podQualifies(pod)) {
      await this.deleteSecrets(owned, log, "pod is gone or finished");
      return {};
    }
    const { winner } = selectIdentity(pod, deps.identities.list(namespace));
    if (!winner) {
      await this.deleteSecrets(owned, log, "no MeshIdentity selects the pod");
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
    const want = desiredCertificate(pod, spec, deps.config.trustDomain, {
      clusterDomain: deps.config.clusterDomain,
      extraSuffixes: deps.config.allowedDnsSuffixes,
    });
    if (!want.ok) return {}; // DNSNameNotAllowed and friends: reported on the MeshIdentity

    const secretName = targetSecretName(pod);
    await this.deleteSecrets(
      owned.filter((s) => s.metadata?.name !== secretName),
      log,
      "the pod mounts another Secret",
    );
    const current = this.currentSecret(namespace, secretName);
    const existing = current ? gatherExisting(current, deps.existing) : undefined;
    const now = deps.clock.now();
    const decision = decideIssuance(want.desired, existing, {
      podUid: pod.metadata?.uid ?? "",
      caFingerprint: ca.ca.fingerprint,
      now,
    });
    if (!decision.issue) {
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

    const desired = want.desired;
    let keyPem: string;
    let publicKeyPem: string;
    const reuse =
      desired.key.rotationPolicy === "Never" &&
      existing?.readable &&
      existing.keyMatches &&
      existing.keySpecMatches(desired.key)
        ? existing.keyPem
        : undefined;
    try {
      if (reuse) {
        keyPem = reuse;
        publicKeyPem = publicKeyFromPrivate(reuse);
      } else {
        // generateKey returns both halves: parsing the private PEM again cost a tenth of a
        // cold start's CPU.
        const generated = await generateKey({
          algorithm: desired.key.algorithm,
          ...(desired.key.size ? { size: desired.key.size } : {}),
        });
        keyPem = generated.privateKeyPem;
        publicKeyPem = generated.publicKeyPem;
      }
      const leaf = await issueLeaf(ca.ca, {
        publicKeyPem,
        spiffeId: desired.spiffeId,
        dnsNames: desired.dnsNames,
        ipAddresses: desired.ipAddresses,
        usages: desired.usages,
        durationMs: desired.durationMs,
        now,
      });
      const renewAt = renewalTime(
        leaf.notBefore,
        leaf.notAfter,
        desired.renewBeforeMs,
        deps.random(),
      );
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
        ...(desired.ipAddresses[0] ? { podIp: desired.ipAddresses[0] } : {}),
        template: spec.secretTemplate,
        ...(current?.metadata?.resourceVersion
          ? { resourceVersion: current.metadata.resourceVersion }
          : {}),
      });
      const stored = await this.write(
        namespace,
        secret,
        current !== undefined,
        pod,
        identityKey,
        log,
      );
      if (!stored) return { requeueAfterMs: blockedRetryMs };
      this.written.set(objectKey(namespace, secretName), { secret: stored, at: now.getTime() });
      deps.failures.clear(identityKey, key);
      deps.observer?.issued(namespace, decision.reason, pod);
      log.info("Issued certificate", {
        secret: secretName,
        reason: decision.reason,
        spiffeId: desired.spiffeId,
        serial: leaf.serialHex,
        notAfter: leaf.notAfter.toISOString(),
        renewAt: renewAt.toISOString(),
      });
      deps.tally.record(identityKey, decision.reason);
      return { requeueAfterMs: requeueDelay(renewAt, deps.clock.now()) };
    } catch (err) {
      if (err instanceof MeshIdError && err.retryable) throw err;
      if (isConflict(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
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

  /** currentSecret is the freshest copy of a managed Secret: the cache, or what we just wrote. */
  private currentSecret(namespace: string, name: string): V1Secret | undefined {
    const key = objectKey(namespace, name);
    const cached = this.deps.secrets.get(key);
    const mine = this.written.get(key);
    if (!mine) return cached;
    const fresh = this.deps.clock.now().getTime() - mine.at < 60_000;
    if (cached?.metadata?.resourceVersion === mine.secret.metadata?.resourceVersion || !fresh) {
      this.written.delete(key);
      return cached;
    }
    return mine.secret;
  }

  /** write creates or replaces the Secret; undefined when a foreign Secret holds the name. */
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
      const found = await kube.getSecret(namespace, secret.metadata?.name ?? "");
      if (found && found.metadata?.labels?.[labels.managed] !== managedValue) {
        const message = `Secret ${secret.metadata?.name} exists and is not managed by meshid; it was left as it is and no certificate was issued`;
        log.warn("Secret name taken by a foreign Secret", { secret: secret.metadata?.name });
        this.deps.failures.record(
          identityKey,
          objectKey(namespace, pod.metadata?.name ?? ""),
          message,
        );
        this.deps.observer?.failed("SecretConflict");
        recordEvent(this.deps, podSubject(pod), "Warning", "SecretConflict", message);
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
