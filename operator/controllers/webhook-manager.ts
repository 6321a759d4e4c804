/**
 * WebhookManager runs the admission webhook on every replica: it issues the webhook's serving
 * certificate from the operator's own CA (and renews it like any leaf, at two thirds of its life
 * or when the CA changes), starts the HTTPS server once a certificate exists, and keeps the
 * MutatingWebhookConfiguration's caBundle equal to the trust bundle.
 */
import { errorText } from "../errors";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { WebhookConfigPort } from "../kube/client";
import type { SigningCa } from "../pki";
import { requeueDelay } from "../policy/issuance";
import { issueCertificate } from "./issue";
import { spiffeIdFor } from "../policy/desired";
import { WebhookServer } from "../webhook/server";
import type { AdmissionDeps } from "../webhook/admission";

/** servingDurationMs is the lifetime of the webhook's serving certificate. */
const servingDurationMs = 24 * 3_600_000;
/** bundleCheckMs is how often a caBundle in sync is compared with the trust bundle again. */
const bundleCheckMs = 60_000;
/** bundleRetryMs is how soon a missing configuration or a failed update is tried again. */
const bundleRetryMs = 5_000;

/** WebhookManagerDeps are the ports the webhook manager uses. */
export interface WebhookManagerDeps {
  kube: WebhookConfigPort;
  clock: Clock;
  logger: Logger;
  config: Pick<
    Config,
    | "namespace"
    | "trustDomain"
    | "clusterDomain"
    | "bindAddress"
    | "webhookPort"
    | "webhookConfigName"
    | "webhookService"
    | "webhookCertIps"
  >;
  admission: AdmissionDeps;
}

/** WebhookManager owns the webhook server, its certificate and the caBundle. */
export class WebhookManager {
  private readonly server: WebhookServer;
  private ca?: SigningCa;
  private renewTimer?: { cancel(): void };
  private bundleTimer?: { cancel(): void };
  private stopped = false;
  private starting?: Promise<void>;

  constructor(private readonly deps: WebhookManagerDeps) {
    this.server = new WebhookServer(deps.admission, deps.logger.child({ component: "webhook" }));
  }

  /** serving is true once the webhook listens with a certificate. */
  get serving(): boolean {
    return this.server.serving;
  }

  /** caChanged (re)issues the serving certificate and refreshes the caBundle. */
  caChanged(ca: SigningCa): void {
    this.ca = ca;
    void this.renew();
    void this.syncBundle();
  }

  private async renew(): Promise<void> {
    const ca = this.ca;
    if (!ca || this.stopped) return;
    this.renewTimer?.cancel();
    const { config, clock, logger } = this.deps;
    try {
      const service = `${config.webhookService}.${config.namespace}.svc`;
      const { keyPem, leaf, renewAt } = await issueCertificate(ca, {
        key: { algorithm: "ECDSA", size: 256 },
        spiffeId: spiffeIdFor(config.trustDomain, config.namespace, "meshid-operator"),
        dnsNames: [service, `${service}.${config.clusterDomain}`],
        ipAddresses: config.webhookCertIps,
        usages: ["server auth"],
        durationMs: servingDurationMs,
        renewBeforeMs: servingDurationMs / 3,
        now: clock.now(),
        jitter: 0,
      });
      const cert = { certChainPem: leaf.certChainPem, keyPem };
      // stop() may have run while the certificate was being issued: never start serving then.
      if (this.stopped) return;
      if (this.server.serving) {
        this.server.setCertificate(cert);
      } else {
        this.starting ??= this.server
          .listen(config.webhookPort, config.bindAddress, cert)
          .then((port) => {
            logger.info("Serving admission webhook", { port, path: "/mutate-pods" });
          });
        await this.starting;
      }
      logger.info("Issued webhook serving certificate", {
        serial: leaf.serialHex,
        notAfter: leaf.notAfter.toISOString(),
      });
      this.renewTimer = clock.setTimeout(
        () => void this.renew(),
        requeueDelay(renewAt, clock.now()),
      );
    } catch (err) {
      this.starting = undefined;
      logger.error(
        "Could not issue or serve the webhook certificate; retrying",
        err instanceof Error ? err : { error: String(err) },
      );
      this.renewTimer = clock.setTimeout(() => void this.renew(), 10_000);
    }
  }

  private async syncBundle(): Promise<void> {
    const ca = this.ca;
    if (!ca || this.stopped) return;
    this.bundleTimer?.cancel();
    const { kube, config, logger, clock } = this.deps;
    let next = bundleCheckMs;
    try {
      const cfg = await kube.getMutatingWebhookConfiguration(config.webhookConfigName);
      const want = Buffer.from(ca.trustBundlePem).toString("base64");
      const ops = (cfg?.webhooks ?? []).flatMap((w, i) =>
        w.clientConfig.caBundle === want
          ? []
          : [{ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: want }],
      );
      if (cfg && ops.length > 0) {
        await kube.patchMutatingWebhookConfiguration(config.webhookConfigName, ops);
        logger.info("Updated webhook caBundle", {
          configuration: config.webhookConfigName,
          webhooks: ops.length,
        });
      } else if (!cfg) {
        next = bundleRetryMs;
        logger.debug("MutatingWebhookConfiguration not found; caBundle not set", {
          configuration: config.webhookConfigName,
        });
      }
    } catch (err) {
      next = bundleRetryMs;
      logger.warn("Could not update the webhook caBundle; retrying", {
        error: errorText(err),
      });
    }
    this.bundleTimer = clock.setTimeout(() => void this.syncBundle(), next);
  }

  /** stop ends renewals and closes the server. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.renewTimer?.cancel();
    this.bundleTimer?.cancel();
    await this.server.close();
  }
}
