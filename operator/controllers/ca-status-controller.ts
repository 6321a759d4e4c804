/**
 * CaStatusController keeps the MeshCA object (`kubectl get meshca`): it creates the one object
 * named `meshid` when missing and writes its status from what the operator already knows: the
 * loaded CA, the replaced intermediates in the CA Secret's previous.crt, the trust bundle, and the
 * verified chain of every live leaf (the same verification, from the same cache, as the pod
 * reconcile's). It writes only when the status changed, and records an Event when the phase does.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { secretText } from "../kube/objects";
import {
  MESHCA_KIND,
  MESHCA_NAME,
  type CertificateRef,
  type MeshCA,
  type MeshCAStatus,
} from "../../api/v1alpha1/meshca";
import { API_VERSION } from "../../api/v1alpha1/names";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { EventPort, MeshCaPort, SecretPort } from "../kube/client";
import { isConflict } from "../kube/errors";
import { recordEvent } from "../kube/events";
import type { ReconcileResult } from "../kube/queue";
import { watch, type Controller, type Source, type Watch } from "../kube/manager";
import { caInventory } from "../policy/ca-status";
import { labels } from "../policy/naming";
import { summarizeCertificates } from "../pki";
import type { CaStatus } from "./ca-manager";
import { knownExisting, type ExistingCache } from "./existing";

/** CaStatusDeps are the ports the MeshCA status uses. */
export interface CaStatusDeps {
  secrets: Source<V1Secret>;
  kube: MeshCaPort & Pick<SecretPort, "getSecret"> & EventPort;
  ca: () => CaStatus;
  /** renewAt is when the current intermediate is renewed (or warned about), if loaded. */
  renewAt: () => Date | undefined;
  existing: ExistingCache;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, "namespace" | "caSecret" | "caMode">;
}

/** coalesceMs gathers the Secret events of a mass re-issue into one recount. */
const coalesceMs = 2_000;

function refs(pem: string, what: string): CertificateRef[] {
  return summarizeCertificates(pem, what).map((c) => ({
    fingerprint: c.fingerprint,
    subject: c.subject,
    notAfter: c.notAfter.toISOString(),
  }));
}

/** CaStatusController reconciles the one MeshCA object. */
export class CaStatusController implements Controller {
  readonly name = "meshca";
  readonly concurrency = 1;
  private written?: string;
  private phase?: string;

  constructor(private readonly deps: CaStatusDeps) {}

  /** watches: any managed Secret's event recounts the inventory, coalesced. */
  watches(): Watch[] {
    return [watch(this.deps.secrets, () => [MESHCA_NAME], coalesceMs)];
  }

  /** allKeys is the one object. */
  allKeys(): string[] {
    return [MESHCA_NAME];
  }

  /** reconcile creates the MeshCA when missing and writes its status when it changed. */
  async reconcile(): Promise<ReconcileResult> {
    const { kube, logger } = this.deps;
    if (!(await kube.getMeshCa(MESHCA_NAME))) await this.create();
    const status = await this.computeStatus();
    const { observedTime: _ignored, ...compared } = status;
    const text = JSON.stringify(compared);
    if (text === this.written) return {};
    await kube.patchMeshCaStatus(MESHCA_NAME, status);
    this.written = text;
    if (status.phase !== this.phase) {
      logger.info("CA phase changed", { from: this.phase, to: status.phase });
      if (this.phase !== undefined) {
        const { namespace, caSecret } = this.deps.config;
        recordEvent(
          this.deps,
          { apiVersion: "v1", kind: "Secret", metadata: { namespace, name: caSecret } },
          "Normal",
          "CAPhaseChanged",
          `MeshCA ${MESHCA_NAME}: ${this.phase} → ${status.phase}${status.leaves ? ` (${status.leaves.current}/${status.leaves.total} leaves on the current intermediate)` : ""}`,
        );
      }
      this.phase = status.phase;
    }
    return {};
  }

  private async create(): Promise<void> {
    const object: MeshCA = {
      apiVersion: API_VERSION,
      kind: MESHCA_KIND,
      metadata: { name: MESHCA_NAME },
      spec: {},
    };
    try {
      await this.deps.kube.createMeshCa(object);
      this.deps.logger.info("Created the MeshCA object", { name: MESHCA_NAME });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  private async computeStatus(): Promise<MeshCAStatus> {
    const { deps } = this;
    const observedTime = deps.clock.now().toISOString();
    const mode = deps.config.caMode;
    const status = deps.ca();
    if (!status.ready) return { phase: "NotReady", mode, message: status.message, observedTime };
    const { ca } = status;
    const [current] = refs(ca.chainPem, "the CA chain");
    const renewAt = deps.renewAt();
    const secret = await deps.kube.getSecret(deps.config.namespace, deps.config.caSecret);
    const previousPem = secretText(secret?.data, "previous.crt");
    const previous = previousPem ? refs(previousPem, "previous.crt") : [];
    const leaves = deps.secrets
      .list()
      .filter((s) => s.metadata?.labels?.[labels.managed] === "true")
      .flatMap((s) => knownExisting(s, ca, deps.existing) ?? []);
    return {
      ...caInventory(leaves),
      mode,
      ...(current
        ? { intermediate: { ...current, ...(renewAt ? { renewAt: renewAt.toISOString() } : {}) } }
        : {}),
      previousIntermediates: previous.filter((p) => p.fingerprint !== current?.fingerprint),
      roots: refs(ca.trustBundlePem, "the trust bundle"),
      observedTime,
    };
  }
}
