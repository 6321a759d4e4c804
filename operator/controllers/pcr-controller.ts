/**
 * The signer of Kubernetes Pod Certificates (signer meshid.dev/identity). kubelet makes the key on
 * the node and asks for a certificate through a PodCertificateRequest; this reconcile finds the
 * pod by name AND UID, the MeshIdentity that selects it (the same rules as the Secret path),
 * decides in policy/pod-certificate.ts, signs over the request's verified public key, and writes
 * the one terminal status the API allows: Issued, Denied or Failed.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { EventPort, PodCertificatePort, PodPort } from "../kube/client";
import { isConflict } from "../kube/errors";
import { recordEvent } from "../kube/events";
import type { ReconcileResult } from "../kube/queue";
import {
  buildPcrStatus,
  isPcrDone,
  type PodCertificateRequest,
} from "../kube/pod-certificate-request";
import { watch, type Controller, type Source, type Watch } from "../kube/manager";
import { issueLeaf, podCertificatePublicKey, type RequestedPublicKey } from "../pki";
import { objectKey, signerName, splitKey } from "../policy/naming";
import {
  beginRefreshAt,
  decidePodCertificate,
  PcrReason,
  type PcrFacts,
  type RequestedKey,
} from "../policy/pod-certificate";
import { errorText, MeshIdError } from "../errors";
import type { CaStatus } from "./ca-manager";
import type { IssuanceObserver } from "./pod-controller";
import type { PodCertificateLedger } from "./pod-certificate-ledger";

/** PcrControllerDeps are the ports the signer uses. */
export interface PcrControllerDeps {
  pcrs: Source<PodCertificateRequest>;
  pods: Source<V1Pod>;
  identities: Source<MeshIdentity>;
  kube: PodCertificatePort & PodPort & EventPort;
  ca: () => CaStatus;
  clock: Clock;
  /** random in [0, 1): the refresh jitter, drawn once per request. */
  random: () => number;
  logger: Logger;
  config: Pick<
    Config,
    "trustDomain" | "clusterDomain" | "allowedDnsSuffixes" | "defaultDurationMs" | "concurrency"
  >;
  ledger: PodCertificateLedger;
  observer?: IssuanceObserver;
}

/** keyOf is the queue key of a request. */
function keyOf(pcr: PodCertificateRequest): string {
  return objectKey(pcr.metadata?.namespace ?? "", pcr.metadata?.name ?? "");
}

/** factsOf reads the fields the decision needs; the API server requires every one of them. */
function factsOf(pcr: PodCertificateRequest): PcrFacts {
  const { spec } = pcr;
  return {
    namespace: pcr.metadata?.namespace ?? "",
    podName: spec.podName,
    podUid: spec.podUID,
    serviceAccountName: spec.serviceAccountName,
    nodeName: spec.nodeName,
    maxExpirationSeconds: spec.maxExpirationSeconds ?? 86_400,
    userAnnotations: spec.unverifiedUserAnnotations ?? {},
    terminal: isPcrDone(pcr),
  };
}

/** PcrController answers PodCertificateRequests addressed to meshid's signer. */
export class PcrController implements Controller {
  readonly name = "podcertificaterequests";
  /** UIDs of requests this replica answered, until the cache shows the answer. */
  private readonly answered = new Set<string>();

  constructor(private readonly deps: PcrControllerDeps) {}

  get concurrency(): number {
    return this.deps.config.concurrency;
  }

  /**
   * watches: the requests of meshid's signer only (the informer's field selector). An answered
   * request comes back as an event, which costs a lookup; it also feeds the ledger the
   * MeshIdentity status counts from.
   */
  watches(): Watch[] {
    const { pcrs, ledger } = this.deps;
    return [
      watch(pcrs, (type, pcr) => {
        if (type !== "DELETED") ledger.observe(pcr);
        if (type === "DELETED" || isPcrDone(pcr)) {
          this.answered.delete(pcr.metadata?.uid ?? "");
          return [];
        }
        return [keyOf(pcr)];
      }),
    ];
  }

  /** allKeys is every cached request still waiting for an answer. */
  allKeys(): string[] {
    return this.deps.pcrs
      .list()
      .filter((p) => !isPcrDone(p))
      .map(keyOf);
  }

  /** reconcile answers one request, once. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { deps } = this;
    const { namespace, name } = splitKey(key);
    const log = deps.logger.child({ controller: "podcertificaterequest", namespace, name });
    const pcr = deps.pcrs.get(key);
    if (!pcr || pcr.spec.signerName !== signerName || this.answered.has(pcr.metadata?.uid ?? ""))
      return {};
    const facts = factsOf(pcr);
    const pod = await this.podOf(facts);
    const { key: requested, publicKeyPem } = await this.requestedKey(pcr);
    const ca = deps.ca();
    const now = deps.clock.now();
    const decision = decidePodCertificate(facts, {
      pod,
      identities: deps.identities.list(namespace),
      trustDomain: deps.config.trustDomain,
      dnsPolicy: {
        clusterDomain: deps.config.clusterDomain,
        extraSuffixes: deps.config.allowedDnsSuffixes,
      },
      defaultDurationMs: deps.config.defaultDurationMs,
      ca: ca.ready
        ? { ready: true, notAfter: ca.ca.notAfter }
        : { ready: false, message: `${ca.reason}: ${ca.message}` },
      key: requested,
      now,
    });
    switch (decision.action) {
      case "skip":
        return {};
      case "wait":
        log.debug("Waiting before answering", { why: decision.why });
        return { requeueAfterMs: decision.afterMs };
      case "deny":
      case "fail": {
        const type = decision.action === "deny" ? "Denied" : "Failed";
        await this.answer(pcr, buildPcrStatus(pcr, { type, ...decision }, now));
        log.info(`${type} pod certificate request`, {
          pod: facts.podName,
          reason: decision.reason,
          message: decision.message,
        });
        deps.observer?.failed(`PodCertificate${type}`);
        if (pod?.metadata?.uid === facts.podUid)
          recordEvent(
            deps,
            { apiVersion: "v1", kind: "Pod", metadata: pod.metadata },
            "Warning",
            `PodCertificate${type}`,
            `meshid ${type.toLowerCase()} PodCertificateRequest ${name} (${decision.reason}): ${decision.message}`,
          );
        return {};
      }
      case "issue":
        break;
    }
    if (!ca.ready || !publicKeyPem || !pod) return { requeueAfterMs: 2_000 }; // decided above
    try {
      const leaf = await issueLeaf(ca.ca, {
        publicKeyPem,
        spiffeId: decision.desired.spiffeId,
        dnsNames: decision.desired.dnsNames,
        ipAddresses: decision.desired.ipAddresses,
        usages: decision.desired.usages,
        durationMs: decision.durationMs,
        backdateMs: decision.backdateMs,
        now,
      });
      const refreshAt = beginRefreshAt(leaf.notBefore, leaf.notAfter, decision.spec, deps.random());
      const issued = {
        certificateChain: leaf.certChainPem,
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
        beginRefreshAt: refreshAt,
      };
      const message = `Issued ${decision.desired.spiffeId} for MeshIdentity ${decision.identity.metadata.name ?? ""}`;
      await this.answer(
        pcr,
        buildPcrStatus(pcr, { type: "Issued", reason: PcrReason.Issued, message }, now, issued),
      );
      // kubelet's refresh of a pod meshid already issued to is a renewal, for the metrics.
      const reason = deps.ledger.current(facts.podUid, now) ? "renewal" : "new";
      deps.ledger.record(facts.podUid, { notAfter: leaf.notAfter, beginRefreshAt: refreshAt });
      deps.observer?.issued(namespace, reason, pod);
      log.info("Issued pod certificate", {
        pod: facts.podName,
        spiffeId: decision.desired.spiffeId,
        serial: leaf.serialHex,
        notAfter: leaf.notAfter.toISOString(),
        beginRefreshAt: refreshAt.toISOString(),
      });
      return {};
    } catch (err) {
      if (isConflict(err) || (err instanceof MeshIdError && err.retryable)) throw err;
      if (!(err instanceof MeshIdError)) throw err;
      // Input meshid refuses to sign (e.g. a DNS name outside the CA's name constraints).
      const message = `meshid cannot sign this request: ${errorText(err)}`;
      await this.answer(
        pcr,
        buildPcrStatus(pcr, { type: "Failed", reason: PcrReason.IssueFailed, message }, now),
      );
      deps.observer?.failed(err.code);
      log.error("Failed to issue pod certificate", err);
      recordEvent(
        deps,
        { apiVersion: "v1", kind: "Pod", metadata: pod.metadata },
        "Warning",
        "PodCertificateFailed",
        `meshid failed PodCertificateRequest ${name} (${PcrReason.IssueFailed}): ${message}`,
      );
      return {};
    }
  }

  /**
   * podOf is the request's pod: from the cache when it holds that UID, else read from the API
   * server, so a cache behind a new pod never denies it (kubelet takes a denial as final).
   */
  private async podOf(facts: PcrFacts): Promise<V1Pod | undefined> {
    const cached = this.deps.pods.get(objectKey(facts.namespace, facts.podName));
    if (cached?.metadata?.uid === facts.podUid) return cached;
    return (await this.deps.kube.getPod(facts.namespace, facts.podName)) ?? cached;
  }

  /** requestedKey verifies the request's proof of possession and describes its key. */
  private async requestedKey(
    pcr: PodCertificateRequest,
  ): Promise<{ key: RequestedKey; publicKeyPem?: string }> {
    let found: RequestedPublicKey;
    try {
      found = await podCertificatePublicKey({
        ...(pcr.spec.stubPKCS10Request ? { stubPKCS10Request: pcr.spec.stubPKCS10Request } : {}),
        ...(pcr.spec.pkixPublicKey ? { pkixPublicKey: pcr.spec.pkixPublicKey } : {}),
        ...(pcr.spec.proofOfPossession ? { proofOfPossession: pcr.spec.proofOfPossession } : {}),
        podUid: pcr.spec.podUID,
      });
    } catch (err) {
      if (!(err instanceof MeshIdError)) throw err;
      return { key: { ok: false, message: err.message.replace(/\.$/, "") } };
    }
    return {
      key: {
        ok: true,
        key: {
          algorithm: found.key.algorithm,
          ...(found.key.size !== undefined ? { size: found.key.size } : {}),
        },
      },
      publicKeyPem: found.publicKeyPem,
    };
  }

  /** answer writes the terminal status once; a conflict retries with the fresh request. */
  private async answer(pcr: PodCertificateRequest, withStatus: PodCertificateRequest) {
    await this.deps.kube.updatePodCertificateRequestStatus(withStatus);
    this.answered.add(pcr.metadata?.uid ?? "");
  }
}
