/**
 * LeaderElector holds a coordination.k8s.io/v1 Lease the way client-go's leaderelection does:
 * acquire when the Lease is absent or has not been renewed for a whole lease duration (judged by
 * the local time the record was last seen to change, so clock skew between replicas does not
 * matter), renew every retry period, and step down when renewals fail for longer than the renew
 * deadline. Losing the lease does not end the process: it becomes a candidate again.
 */
import type { V1Lease } from "@kubernetes/client-node";
import type { Clock } from "../clock";

/** LeasePort is the narrow API the elector needs; `replace` must honour resourceVersion. */
export interface LeasePort {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

/** LeaderElectionOptions configures a LeaderElector. */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (err: unknown) => void;
}

/** LeaderElector runs the acquire/renew loop until stopped. */
export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer?: { cancel(): void };
  private lastRenew = 0;
  private observed?: { record: string; at: number };

  constructor(
    private readonly port: LeasePort,
    private readonly opts: LeaderElectionOptions,
  ) {}

  /** isLeader is true while this replica holds the Lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** start begins trying to acquire the Lease. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  /** stop ends the loop and, when leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.port.get(this.opts.namespace, this.opts.name);
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        lease.spec.holderIdentity = "";
        lease.spec.leaseDurationSeconds = 1;
        await this.port.replace(this.opts.namespace, this.opts.name, lease);
      }
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.tick(), this.opts.retryPeriodMs);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenew = this.opts.clock.now().getTime();
        this.setLeading(true);
      } else if (this.leading) {
        this.setLeading(false);
      }
    } catch (err) {
      this.opts.onError?.(err);
      if (
        this.leading &&
        this.opts.clock.now().getTime() - this.lastRenew > this.opts.renewDeadlineMs
      ) {
        this.setLeading(false);
      }
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.opts.clock.now();
    const durationSeconds = Math.max(1, Math.round(this.opts.leaseDurationMs / 1000));
    const lease = await this.port.get(namespace, name);
    if (!lease) {
      await this.port.create(namespace, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: now.getTime() };
    const holder = spec.holderIdentity ?? "";
    const held = holder !== "" && holder !== identity;
    const expiresAt = this.observed.at + (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (held && now.getTime() < expiresAt) return false;

    const takingOver = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      ...(takingOver
        ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
        : {}),
    };
    await this.port.replace(namespace, name, lease);
    return true;
  }
}
