/**
 * CaManager loads the signing CA at start and keeps it current. Bootstrap mode creates a root
 * and an intermediate once, create-only: the intermediate Secret is written first, so a replica
 * that loses the race (409) adopts the winner's CA, and a crash between the two writes still
 * leaves a working CA. An existing CA Secret is never overwritten, even a corrupt one: the fault
 * is reported (log, Event, readiness, MeshIdentity status) and nothing is signed until it is
 * fixed. The Secret is re-read periodically, so a repaired or replaced CA is picked up.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { MeshIdError } from "../errors";
import { isConflict } from "../kube/errors";
import type { EventPort, SecretPort } from "../kube/client";
import { recordEvent } from "../kube/events";
import {
  bootstrapCa,
  decodeCaSecretData,
  encodeCaSecretData,
  loadSigningCa,
  type SigningCa,
} from "../pki";

/** CaStatus is what readiness and MeshIdentity status report about the CA. */
export type CaStatus =
  { ready: true; ca: SigningCa } | { ready: false; reason: string; message: string };

/** CaManagerDeps are the ports the CA manager uses. */
export interface CaManagerDeps {
  kube: SecretPort & EventPort;
  clock: Clock;
  logger: Logger;
  config: Pick<
    Config,
    | "caMode"
    | "caSecret"
    | "rootCaSecret"
    | "namespace"
    | "trustDomain"
    | "clusterDomain"
    | "allowedDnsSuffixes"
  >;
  /** Called whenever the CA becomes ready, changes, or stops being ready. */
  onChange: (status: CaStatus) => void;
  recheckMs?: number;
}

/** CaMissingError: external mode and the CA Secret does not exist. */
export class CaMissingError extends MeshIdError {
  constructor(namespace: string, name: string) {
    super(
      "CaSecretMissing",
      `CA Secret ${namespace}/${name} does not exist: create it with tls.crt, tls.key and ca.crt (external CA mode)`,
      {
        retryable: true,
      },
    );
  }
}

/** CaManager owns the current CA status. */
export class CaManager {
  private current: CaStatus = {
    ready: false,
    reason: "CALoading",
    message: "the CA has not been loaded yet",
  };
  private loadedVersion?: string;
  private timer?: { cancel(): void };
  private stopped = false;

  constructor(private readonly deps: CaManagerDeps) {}

  /** status is the current CA status. */
  get status(): CaStatus {
    return this.current;
  }

  /** start loads (or bootstraps) the CA now and re-checks it periodically. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
  }

  /** stop ends the periodic re-check. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.current.ready
      ? (this.deps.recheckMs ?? 60_000)
      : Math.min(this.deps.recheckMs ?? 60_000, 10_000);
    this.timer = this.deps.clock.setTimeout(() => void this.check(), ms);
  }

  private async check(): Promise<void> {
    try {
      const secret = await this.loadOrBootstrap();
      const version = secret.metadata?.resourceVersion;
      if (!this.current.ready || version !== this.loadedVersion) {
        const ca = await this.load(secret);
        const changed = !this.current.ready || this.current.ca.fingerprint !== ca.fingerprint;
        this.loadedVersion = version;
        this.current = { ready: true, ca };
        if (changed) {
          this.deps.logger.info("CA loaded", {
            fingerprint: ca.fingerprint,
            notAfter: ca.notAfter.toISOString(),
            mode: this.deps.config.caMode,
          });
          this.deps.onChange(this.current);
        }
      }
    } catch (err) {
      this.report(err);
    }
    this.schedule();
  }

  private report(err: unknown): void {
    const e = err instanceof MeshIdError ? err : undefined;
    const reason = e?.code ?? "CAUnavailable";
    const message = err instanceof Error ? err.message : String(err);
    const changed =
      this.current.ready || this.current.reason !== reason || this.current.message !== message;
    this.current = { ready: false, reason, message };
    this.loadedVersion = undefined;
    if (!changed) return;
    this.deps.logger.error("CA not ready; nothing will be issued until it is fixed", {
      reason,
      error: message,
    });
    this.deps.onChange(this.current);
    const { namespace, caSecret } = this.deps.config;
    recordEvent(
      this.deps,
      { apiVersion: "v1", kind: "Secret", metadata: { namespace, name: caSecret } },
      "Warning",
      "CANotReady",
      `${reason}: ${message}`,
    );
  }

  private async load(secret: V1Secret): Promise<SigningCa> {
    const { certPem, keyPem, caPem } = decodeCaSecretData(secret.data);
    return loadSigningCa({ certPem, keyPem, rootsPem: caPem, now: this.deps.clock.now() });
  }

  private async loadOrBootstrap(): Promise<V1Secret> {
    const { namespace, caSecret, caMode } = this.deps.config;
    const existing = await this.deps.kube.getSecret(namespace, caSecret);
    if (existing) return existing;
    if (caMode === "external") throw new CaMissingError(namespace, caSecret);
    return this.bootstrap();
  }

  private async bootstrap(): Promise<V1Secret> {
    const { namespace, caSecret, rootCaSecret, trustDomain, clusterDomain, allowedDnsSuffixes } =
      this.deps.config;
    this.deps.logger.info("Bootstrapping a new CA", { namespace, secret: caSecret, trustDomain });
    // "svc" lets leaves carry the short service names <svc>.<ns>.svc the DNS policy allows.
    const generated = await bootstrapCa({
      trustDomain,
      clusterDomain,
      dnsSuffixes: ["svc", ...allowedDnsSuffixes],
      now: this.deps.clock.now(),
    });
    const shape = (name: string, data: object): V1Secret => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name,
        namespace,
        labels: { "app.kubernetes.io/name": "meshid", "app.kubernetes.io/component": "ca" },
      },
      type: "kubernetes.io/tls",
      data: { ...data },
    });
    let intermediate: V1Secret;
    try {
      intermediate = await this.deps.kube.createSecret(
        namespace,
        shape(
          caSecret,
          encodeCaSecretData({ ...generated.intermediate, caPem: generated.root.certPem }),
        ),
      );
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Another replica bootstrapped first: adopt its CA.
      const winner = await this.deps.kube.getSecret(namespace, caSecret);
      if (!winner) throw err;
      this.deps.logger.info("Adopting the CA another replica created", { secret: caSecret });
      return winner;
    }
    try {
      await this.deps.kube.createSecret(
        namespace,
        shape(
          rootCaSecret,
          encodeCaSecretData({ ...generated.root, caPem: generated.root.certPem }),
        ),
      );
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.deps.logger.warn(
        "Root CA Secret already exists and was left as it is; it does not match the new intermediate",
        {
          secret: rootCaSecret,
        },
      );
    }
    return intermediate;
  }
}
