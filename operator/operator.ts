/**
 * MeshIdOperator wires the process together on top of @dot-i/k8s-operator's `Operator`: the
 * framework loads the kubeconfig and drives init/start/stop; meshid replaces its watch with a
 * supervised informer (the framework's own watch exits the process on any watch error) and adds
 * what the framework lacks: caches, keyed queues, leader election and health.
 */
import Operator, {
  ResourceMetaImpl,
  type ResourceEvent,
  ResourceEventType,
} from "@dot-i/k8s-operator";
import type { KubernetesObject, V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../api/v1alpha1/types";
import { GROUP, PLURAL, VERSION } from "../api/v1alpha1/names";
import { systemClock, type Clock } from "./clock";
import type { Config } from "./config";
import type { Logger } from "./logger";
import { KubeClient } from "./kube/client";
import { slimPod, withoutManagedFields } from "./kube/objects";
import { Informer, type WatchEventType } from "./kube/informer";
import {
  customResourceSource,
  namedConfigMapSource,
  podSource,
  secretSource,
} from "./kube/sources";
import { KeyedQueue } from "./kube/queue";
import { LeaderElector } from "./kube/leader";
import {
  annotations,
  generatedTokenLength,
  labels,
  managedValue,
  objectKey,
  trustBundleConfigMap,
} from "./policy/naming";
import { CaManager, type CaStatus } from "./controllers/ca-manager";
import { PodController } from "./controllers/pod-controller";
import { Metrics } from "./metrics";
import { IdentityController } from "./controllers/identity-controller";
import { ExistingCache } from "./controllers/existing";
import { podsByUid, secretsByPod } from "./controllers/cache";
import { FailureLog } from "./controllers/failure-log";
import { IssuanceTally } from "./controllers/issuance-tally";
import { HealthServer } from "./health";
import { WebhookManager } from "./controllers/webhook-manager";

/** OperatorOptions are the injectable parts (tests pass a fake clock or random source). */
export interface OperatorOptions {
  clock?: Clock;
  random?: () => number;
}

/** randomToken returns the random part of a generated Secret name, in generateName's alphabet. */
function randomToken(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from(
    { length: generatedTokenLength },
    () => alphabet[Math.floor(Math.random() * alphabet.length)],
  ).join("");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** MeshIdOperator is the meshid operator process. */
export class MeshIdOperator extends Operator {
  readonly health = new HealthServer();
  readonly client: KubeClient;
  readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private podInformer?: Informer<V1Pod>;
  private secretInformer?: Informer<V1Secret>;
  private identityInformer?: Informer<MeshIdentity>;
  private podQueue?: KeyedQueue;
  private identityQueue?: KeyedQueue;
  private elector?: LeaderElector;
  private ca?: CaManager;
  private webhook?: WebhookManager;
  private resyncTimer?: { cancel(): void };
  private leading = false;
  private stopping = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly options: OperatorOptions = {},
  ) {
    super({
      debug: (m) => log.debug(m, { component: "framework" }),
      info: (m) => log.info(m, { component: "framework" }),
      warn: (m) => log.warn(m, { component: "framework" }),
      error: (m) => log.error(m, { component: "framework" }),
    });
    if (config.kubeconfig) {
      this.kubeConfig.loadFromFile(config.kubeconfig);
    }
    this.clock = options.clock ?? systemClock;
    this.client = new KubeClient(this.kubeConfig);
    this.metrics = new Metrics(this.clock, {
      queues: () => ({
        ...(this.podQueue ? { pods: this.podQueue.stats() } : {}),
        ...(this.identityQueue ? { meshidentities: this.identityQueue.stats() } : {}),
      }),
      requests: () => this.client.stats,
      isLeader: () => this.leading,
      caNotAfter: () => (this.ca?.status.ready ? this.ca.status.ca.notAfter : undefined),
    });
  }

  /** isLeader is true while this replica reconciles. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** caStatus is the CA's current status. */
  get caStatus(): CaStatus | undefined {
    return this.ca?.status;
  }

  /**
   * watchResource replaces the framework's watch (same signature) with a supervised informer:
   * list-then-watch from a resourceVersion, restarted with backoff on any failure, never exiting
   * the process. Handlers only enqueue keys.
   */
  protected override async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
  ): Promise<void> {
    const informer = new Informer<KubernetesObject>(
      customResourceSource(this.kubeConfig, group, version, plural),
      {
        clock: this.clock,
        transform: withoutManagedFields,
        onError: (err, retryInMs) =>
          this.log.warn("Watch failed; relisting", {
            resource: `${plural}.${group}`,
            error: errorText(err),
            retryInMs,
          }),
      },
    );
    informer.on((type, obj) => {
      const event: ResourceEvent = {
        type: type as ResourceEventType,
        object: obj,
        meta: ResourceMetaImpl.createWithPlural(plural, obj),
      };
      onEvent(event).catch((err: unknown) =>
        this.log.error("Event handler failed", { resource: plural, error: errorText(err) }),
      );
    });
    this.informers.set(`${plural}.${group}`, informer);
    informer.start();
    await informer.waitForSync();
    this.log.info("Watching resource", { resource: `${plural}.${group}/${version}` });
  }

  private informer<T extends KubernetesObject>(
    describe: string,
    source: ConstructorParameters<typeof Informer<T>>[0],
    transform: (obj: T) => T,
  ): Informer<T> {
    const informer = new Informer<T>(source, {
      clock: this.clock,
      transform,
      onError: (err, retryInMs) =>
        this.log.warn("Watch failed; relisting", {
          resource: describe,
          error: errorText(err),
          retryInMs,
        }),
    });
    this.informers.set(describe, informer as unknown as Informer<KubernetesObject>);
    return informer;
  }

  protected async init(): Promise<void> {
    const { config, log, clock } = this;
    if (config.metricsPort > 0) {
      const port = await this.metrics.listen(config.metricsPort, config.bindAddress);
      log.info("Serving metrics", { port, path: "/metrics" });
    }
    if (config.healthPort > 0) {
      const port = await this.health.listen(config.healthPort, config.bindAddress);
      log.info("Serving health checks", { port, paths: ["/healthz", "/readyz"] });
    }
    this.health.addCheck("caches", () => {
      const unsynced = [...this.informers].filter(([, i]) => !i.synced).map(([n]) => n);
      return unsynced.length > 0
        ? `not synced: ${unsynced.join(", ")}`
        : this.informers.size === 0
          ? "not started"
          : undefined;
    });
    this.health.addCheck("ca", () => {
      const s = this.ca?.status;
      if (!s) return "not loaded";
      return s.ready ? undefined : `${s.reason}: ${s.message}`;
    });

    const pods = (this.podInformer = this.informer<V1Pod>(
      "pods",
      podSource(this.kubeConfig),
      slimPod,
    ));
    const secrets = (this.secretInformer = this.informer<V1Secret>(
      "secrets",
      secretSource(this.kubeConfig, `${labels.managed}=${managedValue}`),
      withoutManagedFields,
    ));

    const bundles = this.informer<V1ConfigMap>(
      "configmaps",
      namedConfigMapSource(this.kubeConfig, trustBundleConfigMap),
      withoutManagedFields,
    );

    secrets.addIndex(secretsByPod.name, secretsByPod.fn);
    pods.addIndex(podsByUid.name, podsByUid.fn);

    const failures = new FailureLog();
    const tally = new IssuanceTally();
    const existing = new ExistingCache();
    const caStatus = (): CaStatus =>
      this.ca?.status ?? {
        ready: false,
        reason: "CALoading",
        message: "the CA has not been loaded yet",
      };
    const identitiesCache = {
      get: (key: string) => this.identityInformer?.get(key),
      list: (ns?: string) => this.identityInformer?.list(ns) ?? [],
      byIndex: () => [],
    };
    const shared = {
      pods,
      identities: identitiesCache,
      secrets,
      kube: this.client,
      ca: caStatus,
      clock,
      logger: log,
      config,
      failures,
      tally,
      observer: this.metrics,
    };
    const podController = new PodController({
      ...shared,
      random: this.options.random ?? Math.random,
      existing,
    });
    const identityController = new IdentityController({ ...shared, bundles, existing });
    const onError =
      (queue: string) => (key: string, err: unknown, attempt: number, retryInMs: number) =>
        log.warn("Reconcile failed; retrying", {
          queue,
          key,
          attempt,
          retryInMs,
          error: errorText(err),
        });
    const podQueue = (this.podQueue = new KeyedQueue(
      { name: "pods", concurrency: config.concurrency, clock, onError: onError("pods") },
      (key) => podController.reconcile(key),
    ));
    const identityQueue = (this.identityQueue = new KeyedQueue(
      { name: "meshidentities", concurrency: 2, clock, onError: onError("meshidentities") },
      (key) => identityController.reconcile(key),
    ));

    // Mappers: events only turn objects into keys. A MeshIdentity's status summarises all its
    // pods, so pod and Secret changes recount it at most once per second, not once per event.
    const recountMs = 1_000;
    const identitiesOf = (ns: string) => this.identityInformer?.list(ns) ?? [];
    pods.on((type: WatchEventType, pod) => {
      const ns = pod.metadata?.namespace ?? "";
      const key = objectKey(ns, pod.metadata?.name ?? "");
      if (type === "DELETED") this.metrics.podGone(key);
      else this.metrics.podSeen(key);
      podQueue.add(key);
      for (const mi of identitiesOf(ns))
        identityQueue.addAfter(objectKey(ns, mi.metadata.name ?? ""), recountMs);
    });
    secrets.on((_type, secret) => {
      const ns = secret.metadata?.namespace ?? "";
      const owner = secret.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
      if (owner) podQueue.add(objectKey(ns, owner.name));
      const identity = secret.metadata?.labels?.[labels.identity];
      if (identity) identityQueue.addAfter(objectKey(ns, identity), recountMs);
    });

    // A deleted or edited trust bundle is restored by its namespace's MeshIdentities.
    bundles.on((_type, cm) => {
      const ns = cm.metadata?.namespace ?? "";
      for (const mi of identitiesOf(ns)) identityQueue.add(objectKey(ns, mi.metadata.name ?? ""));
    });

    pods.start();
    secrets.start();
    bundles.start();
    // A MeshIdentity's own status patches come back as MODIFIED events with an unchanged
    // generation; re-queueing every pod of the namespace for them stalled large cold starts. Its
    // pods matter only when the spec (generation) or a renewal request changed.
    const seenGeneration = new Map<string, string>();
    await this.watchResource(GROUP, VERSION, PLURAL, async (event) => {
      const ns = event.meta.namespace ?? "";
      const key = objectKey(ns, event.meta.name);
      identityQueue.add(key);
      const meta = event.object.metadata;
      const generation = `${meta?.generation}/${meta?.annotations?.[annotations.renewRequestedAt]}`;
      const specChanged =
        event.type !== ResourceEventType.Modified || seenGeneration.get(key) !== generation;
      if (event.type === ResourceEventType.Deleted) seenGeneration.delete(key);
      else seenGeneration.set(key, generation);
      if (specChanged)
        for (const pod of pods.list(ns)) podQueue.add(objectKey(ns, pod.metadata?.name ?? ""));
      await Promise.resolve();
    });
    this.identityInformer = this.informers.get(
      `${PLURAL}.${GROUP}`,
    ) as unknown as Informer<MeshIdentity>;
    await Promise.all([pods.waitForSync(), secrets.waitForSync(), bundles.waitForSync()]);
    log.info("Caches synced", {
      pods: pods.size,
      managedSecrets: secrets.size,
      meshIdentities: this.identityInformer.size,
    });

    const enqueueAll = () => {
      for (const p of pods.list())
        podQueue.add(objectKey(p.metadata?.namespace ?? "", p.metadata?.name ?? ""));
      for (const m of this.identityInformer?.list() ?? [])
        identityQueue.add(objectKey(m.metadata.namespace ?? "", m.metadata.name ?? ""));
    };
    // A slow, jittered resync re-checks every pod and MeshIdentity from the caches, so drift that
    // raised no event (or an event lost with a dropped watch) does not outlive one period.
    const resync = () => {
      const ms = config.resyncPeriodMs * (1 + 0.1 * Math.random());
      this.resyncTimer = clock.setTimeout(() => {
        if (this.leading) {
          log.debug("Resyncing", { pods: pods.size });
          enqueueAll();
        }
        resync();
      }, ms);
    };
    resync();

    if (config.webhookPort > 0) {
      const identities = this.identityInformer;
      this.webhook = new WebhookManager({
        kube: this.client,
        clock,
        logger: log,
        config,
        admission: { identities: (ns) => identities.list(ns), randomToken },
      });
      this.health.addCheck("webhook", () =>
        this.webhook?.serving ? undefined : "not serving yet",
      );
    }
    this.ca = new CaManager({
      recheckMs: config.caRecheckPeriodMs,
      kube: this.client,
      clock,
      logger: log,
      config,
      onChange: (status) => {
        if (status.ready) this.webhook?.caChanged(status.ca);
        enqueueAll();
      },
    });
    await this.ca.start();

    if (!config.leaderElect) {
      this.startLeading(enqueueAll);
      return;
    }
    this.elector = new LeaderElector(this.client, {
      namespace: config.namespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      clock,
      onStartedLeading: () => this.startLeading(enqueueAll),
      onStoppedLeading: () => {
        this.leading = false;
        podQueue.pause();
        identityQueue.pause();
        if (this.stopping) log.info("Released leadership", { identity: config.identity });
        else
          log.warn("Lost leadership; reconciling stops until it is regained", {
            identity: config.identity,
          });
      },
      onError: (err) => log.debug("Lease request failed", { error: errorText(err) }),
    });
    this.elector.start();
    log.info("Waiting for leadership", {
      lease: `${config.namespace}/${config.leaseName}`,
      identity: config.identity,
    });
  }

  private startLeading(enqueueAll: () => void): void {
    if (this.stopping) return;
    this.leading = true;
    this.log.info("Became leader; reconciling", { identity: this.config.identity });
    enqueueAll();
    this.podQueue?.start();
    this.identityQueue?.start();
  }

  /** shutdown stops reconciling, releases the Lease, and stops every watch and server. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.resyncTimer?.cancel();
    this.podQueue?.shutdown();
    this.identityQueue?.shutdown();
    await this.elector?.stop();
    this.ca?.stop();
    for (const informer of this.informers.values()) informer.stop();
    await Promise.all([this.health.close(), this.metrics.close(), this.webhook?.stop()]);
  }

  /** stop is the framework's stop; it must not exit the process, so it delegates to shutdown. */
  override stop(): void {
    void this.shutdown();
  }
}
