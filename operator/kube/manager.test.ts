import { Writable } from "node:stream";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { FakeClock, flush } from "../testing/fake-clock";
import { MemoryCache } from "../testing/memory-cache";
import { createLogger } from "../logger";
import type { ReconcileResult } from "./queue";
import { type Controller, ControllerManager, watch } from "./manager";

const cm = (namespace: string, name: string): V1ConfigMap => ({ metadata: { namespace, name } });
const keyOf = (o: V1ConfigMap) => `${o.metadata!.namespace}/${o.metadata!.name}`;

/** FakeController records the keys it reconciles; its watches and keys come from the test. */
class FakeController implements Controller {
  readonly concurrency = 2;
  readonly reconciled: string[] = [];
  result: ReconcileResult = {};
  constructor(
    readonly name: string,
    private readonly watched: ReturnType<typeof watch>[],
    private readonly keys: () => string[] = () => [],
  ) {}
  async reconcile(key: string): Promise<ReconcileResult> {
    this.reconciled.push(key);
    return this.result;
  }
  watches() {
    return this.watched;
  }
  allKeys() {
    return this.keys();
  }
}

function setup() {
  const clock = new FakeClock();
  const manager = new ControllerManager({
    clock,
    logger: createLogger("error", new Writable({ write: (_c, _e, done) => done() })),
    resyncPeriodMs: 600_000,
  });
  const now = new MemoryCache<V1ConfigMap>();
  const later = new MemoryCache<V1ConfigMap>();
  const controller = new FakeController("things", [
    watch(now, (_type, o) => [keyOf(o)]),
    watch(later, (_type, o) => [`${o.metadata!.namespace}/summary`], 1_000),
  ]);
  manager.add(controller);
  return { clock, manager, now, later, controller };
}

afterEach(() => jest.restoreAllMocks());

describe("ControllerManager", () => {
  it("queues the keys of a watched source's events and reconciles them only after lead", async () => {
    const { manager, now, controller } = setup();
    now.put(cm("shop", "a"));
    now.put(cm("shop", "b"));
    now.put(cm("shop", "a")); // queued already: reconciled once
    await flush();
    expect(controller.reconciled).toEqual([]);
    expect(manager.stats().things?.depth).toBe(2);

    manager.lead();
    await flush();
    expect(controller.reconciled).toEqual(["shop/a", "shop/b"]);

    now.delete("shop/b");
    await flush();
    expect(controller.reconciled).toEqual(["shop/a", "shop/b", "shop/b"]);
    manager.stop();
  });

  it("coalesces the events of a delayed watch into one reconcile after the delay", async () => {
    const { manager, later, controller, clock } = setup();
    manager.lead();
    later.put(cm("shop", "p1"));
    await clock.advance(400);
    later.put(cm("shop", "p2"));
    later.put(cm("shop", "p1"));
    await clock.advance(599);
    expect(controller.reconciled).toEqual([]);
    expect(manager.stats().things?.delayed).toBe(1);
    await clock.advance(1);
    expect(controller.reconciled).toEqual(["shop/summary"]);
    await clock.advance(5_000);
    expect(controller.reconciled).toEqual(["shop/summary"]);
    manager.stop();
  });

  it("requeues a key after the delay its reconcile asks for", async () => {
    const { manager, now, controller, clock } = setup();
    controller.result = { requeueAfterMs: 30_000 };
    manager.lead();
    now.put(cm("shop", "a"));
    await flush();
    expect(controller.reconciled).toEqual(["shop/a"]);
    await clock.advance(29_999);
    expect(controller.reconciled).toEqual(["shop/a"]);
    await clock.advance(1);
    expect(controller.reconciled).toEqual(["shop/a", "shop/a"]);
    manager.stop();
  });

  it("takes no keys while paused and reconciles the waiting ones at the next lead", async () => {
    const { manager, now, controller } = setup();
    manager.lead();
    now.put(cm("shop", "a"));
    await flush();
    manager.pause();
    now.put(cm("shop", "b"));
    now.put(cm("shop", "c"));
    await flush();
    expect(controller.reconciled).toEqual(["shop/a"]);
    expect(manager.stats().things?.depth).toBe(2);

    manager.lead();
    await flush();
    expect(controller.reconciled).toEqual(["shop/a", "shop/b", "shop/c"]);
    manager.stop();
  });

  it("reconciles every key of allKeys on resync, and on lead", async () => {
    const clock = new FakeClock();
    const manager = new ControllerManager({
      clock,
      logger: createLogger("error", new Writable({ write: (_c, _e, done) => done() })),
      resyncPeriodMs: 600_000,
    });
    const controller = new FakeController("all", [], () => ["shop/a", "bank/b"]);
    manager.add(controller);
    manager.lead();
    await flush();
    expect(controller.reconciled).toEqual(["shop/a", "bank/b"]);
    manager.resync();
    await flush();
    expect(controller.reconciled).toEqual(["shop/a", "bank/b", "shop/a", "bank/b"]);
    manager.stop();
  });

  it("resyncs every period while leading, and not while paused", async () => {
    jest.spyOn(Math, "random").mockReturnValue(0); // no jitter
    const clock = new FakeClock();
    const manager = new ControllerManager({
      clock,
      logger: createLogger("error", new Writable({ write: (_c, _e, done) => done() })),
      resyncPeriodMs: 60_000,
    });
    const controller = new FakeController("all", [], () => ["shop/a"]);
    manager.add(controller);
    await manager.start(); // no informers: resolves at once
    manager.lead();
    await flush();
    expect(controller.reconciled).toEqual(["shop/a"]);
    await clock.advance(60_000);
    expect(controller.reconciled).toEqual(["shop/a", "shop/a"]);
    manager.pause();
    await clock.advance(60_000);
    expect(controller.reconciled).toEqual(["shop/a", "shop/a"]);
    manager.stop();
    expect(clock.pending).toBe(0);
  });

  it("names each controller's queue in stats", () => {
    const { manager } = setup();
    manager.add(new FakeController("others", []));
    expect(manager.stats()).toEqual({
      things: { depth: 0, active: 0, delayed: 0, retries: 0 },
      others: { depth: 0, active: 0, delayed: 0, retries: 0 },
    });
  });

  it("has no informers to start, wait for or size when none was created", async () => {
    const { manager } = setup();
    await expect(manager.start()).resolves.toBeUndefined();
    expect(manager.unsynced()).toEqual([]);
    expect(manager.sizes()).toEqual({});
    manager.stop();
  });
});
