/**
 * CaManager loads the signing CA at start and keeps it current. Bootstrap mode creates a root
 * and an intermediate once, create-only: the intermediate Secret is written first, so a replica
 * that loses the race (409) adopts the winner's CA, and a crash between the two writes still
 * leaves a working CA. An existing CA Secret is never overwritten, even a corrupt one: the fault
 * is reported (log, Event, readiness, MeshIdentity status) and nothing is signed until it is
 * fixed. The Secret is re-read periodically, so a repaired or replaced CA is picked up.
 *
 * Bootstrap mode renews the intermediate at `--ca-renew-fraction` of its life: the root signs a
 * successor, which replaces the intermediate in its Secret by one optimistic write (the version
 * that was verified, or nothing), keeping the replaced certificate in previous.crt while a leaf may
 * chain to it. The root and so the trust bundle do not change; leaves move to the new intermediate
 * by the paced `ca-change` re-issue. External mode only warns when its intermediate reaches that
 * point: the user supplies the successor.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { errorText, MeshIdError } from "../errors";
import { isConflict } from "../kube/errors";
import type { EventPort, SecretPort } from "../kube/client";
import { recordEvent } from "../kube/events";
import { buildCaSecret } from "../kube/objects";
import { intermediateRenewalTime, renewalExtends } from "../policy/ca-renewal";
import { nextRootCaSecretName } from "../policy/naming";
import {
  bootstrapCa,
  bootstrapSecretData,
  CaPairMismatchError,
  CLOCK_SKEW_MS,
  checkCaPair,
  decodeCaSecretData,
  loadSigningCa,
  renewedSecretData,
  signIntermediate,
  type SigningCa,
} from "../pki";

/** CaStatus is what readiness and MeshIdentity status report about the CA. */
export type CaStatus =
  | {
      ready: true;
      ca: SigningCa;
      /** since is when this replica started signing with `ca`: the start of its paced re-issue. */
      since?: Date;
    }
  | { ready: false; reason: string; message: string };

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
    | "caIntermediateValidityMs"
    | "caRootValidityMs"
    | "caRenewFraction"
  >;
  /** Called whenever the CA becomes ready, changes, or stops being ready. */
  onChange: (status: CaStatus) => void;
  recheckMs?: number;
}

/** CaMissingError: external mode and the CA Secret does not exist. */
class CaMissingError extends MeshIdError {
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

/**
 * CaPairError: bootstrap mode, and one of the two CA Secrets is missing. meshid never bootstraps
 * over half a CA: a new root would be trusted by no pod, and every leaf would be re-issued at once.
 */
class CaPairError extends MeshIdError {
  constructor(code: "CASecretMissing" | "RootCASecretMissing", message: string) {
    super(code, message, { retryable: true });
  }
}

/** BootstrapInProgressError: the other half was created moments ago by another replica. */
class BootstrapInProgressError extends MeshIdError {
  constructor() {
    super("CALoading", "another replica is bootstrapping the CA", { retryable: true });
  }
}

/** secretSubject names a Secret of the operator's namespace for an Event. */
function secretSubject(namespace: string, name: string) {
  return { apiVersion: "v1", kind: "Secret", metadata: { namespace, name } };
}

/** bootstrapGraceMs is how long half a CA is taken for another replica's bootstrap under way. */
const bootstrapGraceMs = 30_000;

/** caLoading is the CA status before the first load. */
export const caLoading: CaStatus = {
  ready: false,
  reason: "CALoading",
  message: "the CA has not been loaded yet",
};

/** CaManager owns the current CA status. */
export class CaManager {
  private current: CaStatus = caLoading;
  private loadedVersion?: string;
  private checkedPair?: string;
  private timer?: { cancel(): void };
  private stopped = false;
  /** The intermediate whose renewal was found not worth it (or, external, was warned about). */
  private warnedAbout?: string;
  private inFlight?: Promise<void>;

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

  /**
   * recheck reads the CA Secrets now (after the rotation controller wrote one), instead of at
   * the next periodic re-check.
   */
  async recheck(): Promise<void> {
    if (this.stopped) return;
    await this.inFlight;
    await this.check();
  }

  /** stop ends the periodic re-check. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /**
   * expiringWithoutSuccessor is true when the intermediate is past its renewal point and no
   * successor is on the way: external mode, or a root too close to expiry to sign a longer one.
   */
  get expiringWithoutSuccessor(): boolean {
    return this.current.ready && this.warnedAbout === this.current.ca.fingerprint;
  }

  /**
   * issuedAt is when the intermediate's life starts: meshid backdates the ones it signs by the
   * clock-skew allowance, which must not count, or a short-lived intermediate would be due at once.
   */
  private issuedAt(ca: SigningCa): Date {
    const skew = this.deps.config.caMode === "bootstrap" ? CLOCK_SKEW_MS : 0;
    return new Date(Math.min(ca.notBefore.getTime() + skew, ca.notAfter.getTime()));
  }

  /** renewAt is when the loaded intermediate is renewed (or, external, warned about). */
  get renewAt(): Date | undefined {
    return this.current.ready ? this.renewalTime(this.current.ca) : undefined;
  }

  private renewalTime(ca: SigningCa): Date {
    const fraction = this.deps.config.caRenewFraction;
    return intermediateRenewalTime(this.issuedAt(ca), ca.notAfter, fraction);
  }

  private schedule(): void {
    this.timer?.cancel();
    if (this.stopped) return;
    const recheck = this.deps.recheckMs ?? 60_000;
    let ms = this.current.ready ? recheck : Math.min(recheck, 10_000);
    if (this.current.ready && !this.expiringWithoutSuccessor) {
      const until = this.renewalTime(this.current.ca).getTime() - this.deps.clock.now().getTime();
      ms = Math.min(ms, Math.max(until, 1_000));
    }
    this.timer = this.deps.clock.setTimeout(() => void this.check(), ms);
  }

  /** check runs one load-and-renew pass; a pass already under way is joined, not doubled. */
  private check(): Promise<void> {
    this.inFlight ??= this.runCheck().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runCheck(): Promise<void> {
    try {
      const { secret, root } = await this.loadOrBootstrap();
      await this.adopt(secret);
      if (this.current.ready) {
        const renewed = await this.renewIfDue(this.current.ca, secret, root);
        if (renewed) await this.adopt(renewed);
      }
    } catch (err) {
      this.report(err);
    }
    this.schedule();
  }

  /** adopt loads `secret` when it is new or changed, and reports a change of CA. */
  private async adopt(secret: V1Secret): Promise<void> {
    const version = secret.metadata?.resourceVersion;
    // A CA that expires while loaded is loaded again, so its expiry is reported, not hit.
    const expired = this.current.ready && this.deps.clock.now() >= this.current.ca.notAfter;
    if (!this.current.ready || version !== this.loadedVersion || expired) {
      const ca = await this.load(secret);
      const signerChanged = !this.current.ready || this.current.ca.fingerprint !== ca.fingerprint;
      // A new bundle under the same intermediate (a root added to ca.crt) is a change too: pods'
      // ca.crt, the bundle ConfigMaps and the webhook's caBundle must follow it now.
      const changed =
        signerChanged ||
        (this.current.ready && this.current.ca.trustBundlePem !== ca.trustBundlePem);
      this.loadedVersion = version;
      const since =
        signerChanged || !this.current.ready ? this.deps.clock.now() : this.current.since;
      this.current = { ready: true, ca, ...(since ? { since } : {}) };
      if (changed) {
        this.deps.logger.info("CA loaded", {
          fingerprint: ca.fingerprint,
          notAfter: ca.notAfter.toISOString(),
          renewAt: this.renewalTime(ca).toISOString(),
          mode: this.deps.config.caMode,
        });
        this.deps.onChange(this.current);
      }
    }
  }

  /**
   * renewIfDue signs and stores the intermediate's successor once `ca` reaches its renewal time
   * (bootstrap mode), and returns the stored Secret; undefined when nothing was renewed.
   */
  private async renewIfDue(
    ca: SigningCa,
    secret: V1Secret,
    root: V1Secret | undefined,
  ): Promise<V1Secret | undefined> {
    const { config, clock, logger, kube } = this.deps;
    const now = clock.now();
    if (now < this.renewalTime(ca) || this.warnedAbout === ca.fingerprint) return undefined;
    const subject = secretSubject(config.namespace, config.caSecret);
    if (config.caMode === "external" || !root) {
      this.warnedAbout = ca.fingerprint;
      const message = `the intermediate CA in ${config.namespace}/${config.caSecret} expires at ${ca.notAfter.toISOString()} and no successor is supplied; replace the Secret with a renewed intermediate (docs/ca-rotation.md)`;
      logger.warn("CA expiring without a successor", { fingerprint: ca.fingerprint });
      recordEvent(this.deps, subject, "Warning", "CAExpiringWithoutSuccessor", message);
      return undefined;
    }
    const rootPems = decodeCaSecretData(root.data);
    const rootCa = await loadSigningCa({
      certPem: rootPems.certPem,
      keyPem: rootPems.keyPem,
      rootsPem: rootPems.certPem,
      now,
    });
    const next = await signIntermediate(rootCa, {
      trustDomain: config.trustDomain,
      clusterDomain: config.clusterDomain,
      dnsSuffixes: ["svc", ...config.allowedDnsSuffixes],
      now,
      intermediateValidityMs: config.caIntermediateValidityMs,
    });
    // What is written must load as a CA exactly as the current one does.
    const nextCa = await loadSigningCa({ ...next, rootsPem: rootPems.certPem, now });
    if (!renewalExtends({ notBefore: this.issuedAt(ca), notAfter: ca.notAfter }, nextCa.notAfter)) {
      this.warnedAbout = ca.fingerprint;
      const message = `the intermediate CA cannot be renewed beyond ${nextCa.notAfter.toISOString()}: its root expires then; rotate the root (docs/ca-rotation.md)`;
      logger.warn("CA expiring without a successor", {
        fingerprint: ca.fingerprint,
        detail: message,
      });
      recordEvent(this.deps, subject, "Warning", "CAExpiringWithoutSuccessor", message);
      return undefined;
    }
    const replacement: V1Secret = {
      ...secret,
      metadata: { ...secret.metadata, managedFields: undefined },
      data: renewedSecretData(secret.data, next, now),
    };
    let stored: V1Secret;
    try {
      stored = await kube.replaceSecret(config.namespace, replacement);
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Another replica renewed it (or someone edited it) first: adopt what is there now.
      logger.info("The CA Secret changed while renewing; loading it again");
      return kube.getSecret(config.namespace, config.caSecret);
    }
    logger.info("Renewed the intermediate CA", {
      previous: ca.fingerprint,
      fingerprint: nextCa.fingerprint,
      notAfter: nextCa.notAfter.toISOString(),
    });
    recordEvent(
      this.deps,
      subject,
      "Normal",
      "CAIntermediateRenewed",
      `Renewed the intermediate CA before its expiry at ${ca.notAfter.toISOString()}: now ${nextCa.fingerprint.slice(0, 16)}, valid until ${nextCa.notAfter.toISOString()}; leaves move to it paced`,
    );
    return stored;
  }

  private report(err: unknown): void {
    if (err instanceof BootstrapInProgressError) {
      const wasReady = this.current.ready;
      this.current = { ready: false, reason: err.code, message: err.message };
      this.deps.logger.info("Waiting for the CA another replica is bootstrapping");
      if (wasReady) this.deps.onChange(this.current);
      return;
    }
    const e = err instanceof MeshIdError ? err : undefined;
    const reason = e?.code ?? "CAUnavailable";
    const message = errorText(err);
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
      secretSubject(namespace, caSecret),
      "Warning",
      "CANotReady",
      `${reason}: ${message}`,
    );
  }

  private async load(secret: V1Secret): Promise<SigningCa> {
    const { certPem, keyPem, caPem } = decodeCaSecretData(secret.data);
    return loadSigningCa({ certPem, keyPem, rootsPem: caPem, now: this.deps.clock.now() });
  }

  private async loadOrBootstrap(): Promise<{ secret: V1Secret; root?: V1Secret }> {
    const { namespace, caSecret, rootCaSecret, caMode } = this.deps.config;
    const existing = await this.deps.kube.getSecret(namespace, caSecret);
    if (caMode === "external") {
      if (!existing) throw new CaMissingError(namespace, caSecret);
      return { secret: existing };
    }
    // A corrupt CA Secret is reported as such before anything is said about its pair.
    if (existing) decodeCaSecretData(existing.data);
    const root = await this.deps.kube.getSecret(namespace, rootCaSecret);
    if (!existing && !root) return { secret: await this.bootstrap() };
    if (existing && root) {
      try {
        this.checkPair(existing, root);
      } catch (err) {
        // From a rotation's Active until its Retired, the intermediate is the next root's.
        const next = await this.nextRootOf(existing);
        if (!next) throw err;
        return { secret: existing, root: next };
      }
      return { secret: existing, root };
    }
    const present = (existing ?? root)!;
    const created = present.metadata?.creationTimestamp;
    const age = created ? this.deps.clock.now().getTime() - new Date(created).getTime() : Infinity;
    if (age < bootstrapGraceMs) throw new BootstrapInProgressError();
    if (!existing)
      throw new CaPairError(
        "CASecretMissing",
        `the CA Secret ${namespace}/${caSecret} is missing while the root CA Secret ${namespace}/${rootCaSecret} exists; ` +
          `restore ${caSecret} from a backup, or delete ${rootCaSecret} as well to bootstrap a new CA (every pod is then re-issued under a new root). See docs/security.md.`,
      );
    throw new CaPairError(
      "RootCASecretMissing",
      `the root CA Secret ${namespace}/${rootCaSecret} is missing while the CA Secret ${namespace}/${caSecret} exists; ` +
        `restore ${rootCaSecret} from a backup, or delete ${caSecret} as well to bootstrap a new CA (every pod is then re-issued under a new root). See docs/security.md.`,
    );
  }

  /**
   * nextRootOf is the next root's Secret of a root rotation when it is the root of `intermediate`;
   * undefined when there is none or it does not match.
   */
  private async nextRootOf(intermediate: V1Secret): Promise<V1Secret | undefined> {
    const { namespace, rootCaSecret } = this.deps.config;
    const name = nextRootCaSecretName(rootCaSecret);
    const next = await this.deps.kube.getSecret(namespace, name);
    if (!next) return undefined;
    try {
      checkCaPair(decodeCaSecretData(next.data), decodeCaSecretData(intermediate.data), {
        root: `${namespace}/${name}`,
        intermediate: `${namespace}/${this.deps.config.caSecret}`,
      });
    } catch {
      return undefined;
    }
    return next;
  }

  /** checkPair confirms the root Secret matches the intermediate, once per pair of versions. */
  private checkPair(intermediate: V1Secret, root: V1Secret): void {
    const versions = `${intermediate.metadata?.resourceVersion}/${root.metadata?.resourceVersion}`;
    if (this.checkedPair === versions) return;
    const { namespace, caSecret, rootCaSecret } = this.deps.config;
    let rootPems;
    try {
      rootPems = decodeCaSecretData(root.data);
    } catch (err) {
      // Name the root Secret: the fault is there, not in the intermediate the Event is about.
      throw new CaPairMismatchError(
        `the root CA Secret ${namespace}/${rootCaSecret} is unreadable: ${errorText(err)}`,
      );
    }
    checkCaPair(rootPems, decodeCaSecretData(intermediate.data), {
      root: `${namespace}/${rootCaSecret}`,
      intermediate: `${namespace}/${caSecret}`,
    });
    this.checkedPair = versions;
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
      intermediateValidityMs: this.deps.config.caIntermediateValidityMs,
      rootValidityMs: this.deps.config.caRootValidityMs,
    });
    const data = bootstrapSecretData(generated);
    let intermediate: V1Secret;
    try {
      intermediate = await this.deps.kube.createSecret(
        namespace,
        buildCaSecret(namespace, caSecret, data.intermediate),
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
        buildCaSecret(namespace, rootCaSecret, data.root),
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
