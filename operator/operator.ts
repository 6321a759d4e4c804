/**
 * MeshIdOperator wires the process on @dot-i/k8s-operator's `Operator` (kubeconfig, init, start,
 * stop): caches and controllers (run by the ControllerManager), the CA, the webhook, leader
 * election, metrics and health. What wakes a controller is declared in the controller's own file.
 */
import Operator, { type ResourceEvent } from "@dot-i/k8s-operator";
import { systemClock } from "./clock";
import type { Config } from "./config";
import { errorText } from "./errors";
import { frameworkLogger, type Logger } from "./logger";
import { serveEndpoints } from "./endpoints";
import { KubeClient } from "./kube/client";
import { ControllerManager } from "./kube/manager";
import { supervisedWatch } from "./kube/framework";
import { LeaderElector } from "./kube/leader";
import { registerCaches } from "./caches";
import { addPodCertificates } from "./pod-certificates";
import { caLoading, CaManager, type CaStatus } from "./controllers/ca-manager";
import { PodController } from "./controllers/pod-controller";
import { IdentityController } from "./controllers/identity-controller";
import { ExistingCache } from "./controllers/existing";
import { FailureLog } from "./controllers/failure-log";
import { IssuanceTally } from "./controllers/issuance-tally";
import { WebhookManager } from "./controllers/webhook-manager";
import { CaStatusController } from "./controllers/ca-status-controller";
import { RootRotationController } from "./controllers/root-rotation-controller";
import { HealthServer } from "./health";
import { randomToken } from "./webhook/admission";
import { Metrics } from "./metrics";

/** MeshIdOperator is the meshid operator process. */
export class MeshIdOperator extends Operator {
  private readonly clock = systemClock;
  private readonly health = new HealthServer();
  private readonly client: KubeClient;
  private readonly manager: ControllerManager;
  private readonly metrics: Metrics;
  private elector?: LeaderElector;
  private ca?: CaManager;
  private webhook?: WebhookManager;
  private pods?: PodController;
  private leading = false;
  private stopping = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    super(frameworkLogger(log));
    if (config.kubeconfig) this.kubeConfig.loadFromFile(config.kubeconfig);
    this.client = new KubeClient(this.kubeConfig);
    const { clock } = this;
    this.manager = new ControllerManager({
      clock,
      logger: log,
      resyncPeriodMs: config.resyncPeriodMs,
    });
    this.metrics = new Metrics(clock, {
      queues: () => this.manager.stats(),
      requests: () => this.client.stats,
      isLeader: () => this.leading,
      caNotAfter: () => (this.ca?.status.ready ? this.ca.status.ca.notAfter : undefined),
      pacedWaiting: () => this.pods?.pacedWaiting() ?? {},
      caExpiringWithoutSuccessor: () => this.ca?.expiringWithoutSuccessor ?? false,
    });
  }

  /** watchResource replaces the framework's watch (which exits on errors); see kube/framework.ts. */
  protected override watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
  ): Promise<void> {
    const watch = { group, version, plural, onEvent };
    return supervisedWatch(this.manager, this.kubeConfig, this.log, watch);
  }

  protected async init(): Promise<void> {
    const { config, log, clock, manager, metrics, health } = this;
    await serveEndpoints({ config, log, metrics, health, manager, ca: () => this.ca?.status });
    const caches = registerCaches(manager, this.kubeConfig);
    const ca = (): CaStatus => this.ca?.status ?? caLoading;
    const shared = { ...caches, kube: this.client, ca, clock, logger: log, config };
    const existing = new ExistingCache();
    const tallies = { failures: new FailureLog(), tally: new IssuanceTally() };
    const more = { ...tallies, existing, observer: metrics };
    this.pods = new PodController({ ...shared, ...more, random: Math.random });
    manager.add(this.pods);
    manager.add(new CaStatusController({ ...shared, existing, renewAt: () => this.ca?.renewAt }));
    const recheckCa = async () => this.ca?.recheck();
    manager.add(new RootRotationController({ ...shared, ...more, recheckCa }));
    const signer = { ...shared, observer: metrics, random: Math.random };
    const certs = await addPodCertificates(manager, this.kubeConfig, this.client, signer);
    manager.add(new IdentityController({ ...shared, ...more, ...certs }));
    await manager.start();
    log.info("Caches synced", manager.sizes());
    if (config.webhookPort > 0) {
      const admission = { identities: (ns: string) => caches.identities.list(ns), randomToken };
      this.webhook = new WebhookManager({ ...shared, admission });
      health.addCheck("webhook", () => (this.webhook?.serving ? undefined : "not serving yet"));
    }
    const onChange = (status: CaStatus) => {
      if (status.ready) this.webhook?.caChanged(status.ca);
      manager.resync();
    };
    this.ca = new CaManager({ ...shared, onChange, recheckMs: config.caRecheckPeriodMs });
    await this.ca.start();
    if (!config.leaderElect) return this.lead();
    const { namespace, leaseName: name, identity, leaseDurationMs, renewDeadlineMs } = config;
    this.elector = new LeaderElector(this.client, {
      ...{ namespace, name, identity, leaseDurationMs, renewDeadlineMs, clock },
      retryPeriodMs: config.retryPeriodMs,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => this.follow(),
      onError: (err) => log.debug("Lease request failed", { error: errorText(err) }),
    });
    this.elector.start();
    log.info("Waiting for leadership", { lease: `${namespace}/${name}`, identity });
  }

  private lead(): void {
    if (this.stopping) return;
    this.leading = true;
    this.log.info("Became leader; reconciling", { identity: this.config.identity });
    this.manager.lead();
  }

  private follow(): void {
    this.leading = false;
    this.manager.pause();
    const { identity } = this.config;
    if (this.stopping) this.log.info("Released leadership", { identity });
    else this.log.warn("Lost leadership; reconciling stops until it is regained", { identity });
  }

  /** shutdown stops reconciling, releases the Lease, and stops every watch and server. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.manager.stop();
    await this.elector?.stop();
    this.ca?.stop();
    await Promise.all([this.health.close(), this.metrics.close(), this.webhook?.stop()]);
  }

  /** stop is the framework's stop; it must not exit the process, so it delegates to shutdown. */
  override stop(): void {
    void this.shutdown();
  }
}
