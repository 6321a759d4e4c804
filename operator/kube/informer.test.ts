import type { KubernetesObject } from "@kubernetes/client-node";
import { Informer, type ListPage, type ResourceSource, type WatchHandle } from "./informer";
import { FakeClock, flush } from "../testing/fake-clock";

type Obj = KubernetesObject;
const obj = (name: string, rv: string): Obj => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

/** FakeSource is a scripted ResourceSource: lists return `items`, watches are driven by the test. */
class FakeSource implements ResourceSource<Obj> {
  describe = "fake";
  items: Obj[] = [];
  listCalls = 0;
  failLists = 0;
  watches: {
    rv: string;
    onEvent: (t: string, o: Obj) => void;
    done: (e: unknown) => void;
    aborted: boolean;
  }[] = [];

  async list(): Promise<ListPage<Obj>> {
    this.listCalls++;
    if (this.failLists > 0) {
      this.failLists--;
      throw Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    }
    return { items: [...this.items], resourceVersion: String(100 + this.listCalls) };
  }

  async watch(
    rv: string,
    onEvent: (t: string, o: Obj) => void,
    done: (e: unknown) => void,
  ): Promise<WatchHandle> {
    const w = { rv, onEvent, done, aborted: false };
    this.watches.push(w);
    return { abort: () => (w.aborted = true) };
  }

  get last() {
    return this.watches[this.watches.length - 1]!;
  }
}

function setup(opts: { maxIdleMs?: number } = {}) {
  const clock = new FakeClock();
  const source = new FakeSource();
  const events: string[] = [];
  const errors: number[] = [];
  const informer = new Informer(source, {
    clock,
    baseBackoffMs: 100,
    ...opts,
    onError: (_e, ms) => errors.push(ms),
  });
  informer.on((type, o) => events.push(`${type} ${o.metadata?.name}`));
  return { clock, source, events, errors, informer };
}

describe("Informer", () => {
  it("lists, reports every object as added, and watches from the list's resourceVersion", async () => {
    const { source, events, informer } = setup();
    source.items = [obj("a", "1"), obj("b", "2")];
    informer.start();
    await informer.waitForSync();
    await flush();
    expect(events).toEqual(["ADDED a", "ADDED b"]);
    expect(source.last.rv).toBe("101");
    expect(informer.list("ns")).toHaveLength(2);
  });

  it("applies watch events to the cache", async () => {
    const { source, events, informer } = setup();
    source.items = [obj("a", "1")];
    informer.start();
    await informer.waitForSync();
    await flush();
    source.last.onEvent("ADDED", obj("b", "5"));
    source.last.onEvent("MODIFIED", obj("a", "6"));
    source.last.onEvent("DELETED", obj("b", "7"));
    expect(events).toEqual(["ADDED a", "ADDED b", "MODIFIED a", "DELETED b"]);
    expect(informer.get("ns/a")?.metadata?.resourceVersion).toBe("6");
    expect(informer.get("ns/b")).toBeUndefined();
  });

  it("re-opens a watch the server ended, from the last resourceVersion, without relisting", async () => {
    const { source, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await flush();
    source.last.onEvent("ADDED", obj("a", "150"));
    source.last.done(null);
    await flush();
    expect(source.listCalls).toBe(1);
    expect(source.last.rv).toBe("150");
  });

  it("relists after 410 Gone and reports what changed meanwhile", async () => {
    const { source, events, informer } = setup();
    source.items = [obj("a", "1"), obj("b", "2")];
    informer.start();
    await informer.waitForSync();
    await flush();
    source.items = [obj("a", "3"), obj("c", "4")];
    source.last.onEvent("ERROR", { code: 410 } as unknown as Obj);
    await flush();
    expect(source.listCalls).toBe(2);
    expect(events.slice(2)).toEqual(["DELETED b", "MODIFIED a", "ADDED c"]);
  });

  it("keeps retrying with backoff while the API server is unreachable, and never throws", async () => {
    const { clock, source, errors, informer } = setup();
    source.items = [obj("a", "1")];
    informer.start();
    await informer.waitForSync();
    await flush();
    source.failLists = 3;
    source.last.done(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    await flush();
    await clock.advance(10_000);
    expect(errors).toEqual([100, 200, 400, 800]);
    expect(source.listCalls).toBe(5);
    expect(informer.get("ns/a")).toBeDefined();
  });

  it("treats a watch that stays silent past maxIdleMs as dead and relists", async () => {
    const { clock, source, informer } = setup({ maxIdleMs: 60_000 });
    informer.start();
    await informer.waitForSync();
    await flush();
    const first = source.last;
    await clock.advance(60_000);
    await clock.advance(1_000);
    expect(first.aborted).toBe(true);
    expect(source.listCalls).toBe(2);
  });

  it("stops every timer and watch on stop", async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await flush();
    informer.stop();
    expect(source.last.aborted).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
