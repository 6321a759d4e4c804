import type { V1Lease } from "@kubernetes/client-node";
import { LeaderElector, type LeasePort } from "./leader";
import { ApiError } from "./errors";
import { FakeClock, flush } from "../testing/fake-clock";

/** MemoryLeases is a LeasePort with optimistic concurrency, shared by several electors. */
class MemoryLeases implements LeasePort {
  lease?: V1Lease;
  private rv = 0;
  down = false;
  async get() {
    if (this.down) throw new ApiError(undefined, "Unreachable", "down");
    return this.lease ? (JSON.parse(JSON.stringify(this.lease)) as V1Lease) : undefined;
  }
  async create(_ns: string, lease: V1Lease) {
    if (this.down) throw new ApiError(undefined, "Unreachable", "down");
    if (this.lease) throw new ApiError(409, "AlreadyExists", "exists");
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  }
  async replace(_ns: string, _name: string, lease: V1Lease) {
    if (this.down) throw new ApiError(undefined, "Unreachable", "down");
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
      throw new ApiError(409, "Conflict", "stale");
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  }
}

function elector(port: LeasePort, clock: FakeClock, identity: string, log: string[]) {
  return new LeaderElector(port, {
    namespace: "ns",
    name: "lease",
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
  });
}

describe("LeaderElector", () => {
  it("lets exactly one of two candidates lead", async () => {
    const clock = new FakeClock();
    const port = new MemoryLeases();
    const log: string[] = [];
    const a = elector(port, clock, "a", log);
    const b = elector(port, clock, "b", log);
    a.start();
    await flush();
    b.start();
    await clock.advance(30_000);
    expect(log).toEqual(["a leads"]);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
  });

  it("hands over once the leader stops renewing for a whole lease duration", async () => {
    const clock = new FakeClock();
    const port = new MemoryLeases();
    const log: string[] = [];
    const a = elector(port, clock, "a", log);
    const b = elector(port, clock, "b", log);
    a.start();
    await flush();
    b.start();
    await clock.advance(4_000);
    // a dies without releasing: its timers stop, the lease stays as it was.
    const dying = a as unknown as { stopped: boolean; timer?: { cancel(): void } };
    dying.stopped = true;
    dying.timer?.cancel();
    await clock.advance(14_000);
    expect(b.isLeader).toBe(false);
    await clock.advance(4_000);
    expect(b.isLeader).toBe(true);
    expect(port.lease?.spec?.holderIdentity).toBe("b");
    expect(port.lease?.spec?.leaseTransitions).toBe(1);
  });

  it("releases the lease on stop so another candidate takes over at its next retry", async () => {
    const clock = new FakeClock();
    const port = new MemoryLeases();
    const log: string[] = [];
    const a = elector(port, clock, "a", log);
    const b = elector(port, clock, "b", log);
    a.start();
    await flush();
    b.start();
    await flush();
    await a.stop();
    await clock.advance(2_000);
    expect(b.isLeader).toBe(true);
    expect(log).toEqual(["a leads", "a stops", "b leads"]);
  });

  it("steps down when renewals fail past the renew deadline, and leads again when the API returns", async () => {
    const clock = new FakeClock();
    const port = new MemoryLeases();
    const log: string[] = [];
    const a = elector(port, clock, "a", log);
    a.start();
    await flush();
    port.down = true;
    await clock.advance(8_000);
    expect(a.isLeader).toBe(true);
    await clock.advance(4_000);
    expect(a.isLeader).toBe(false);
    port.down = false;
    await clock.advance(2_000);
    expect(log).toEqual(["a leads", "a stops", "a leads"]);
  });
});
