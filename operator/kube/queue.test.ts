import { KeyedQueue } from "./queue";
import { FakeClock, flush } from "../testing/fake-clock";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("KeyedQueue", () => {
  it("processes a key added several times before it runs only once", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new KeyedQueue({ name: "t", concurrency: 1, clock }, async (k) => {
      seen.push(k);
    });
    q.add("a");
    q.add("a");
    q.add("b");
    q.add("a");
    q.start();
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });

  it("lets the event loop turn between keys whose reconciles never wait on I/O", async () => {
    const clock = new FakeClock();
    let processed = 0;
    let processedWhenTimerRan: number | undefined;
    const q = new KeyedQueue({ name: "t", concurrency: 4, clock }, async () => {
      processed++;
    });
    for (let i = 0; i < 1000; i++) q.add(`k${i}`);
    setImmediate(() => (processedWhenTimerRan = processed));
    q.start();
    await q.idle();
    expect(processed).toBe(1000);
    expect(processedWhenTimerRan).toBeLessThan(1000);
  });

  it("processes thousands of keys in the order they were added, keys added meanwhile last", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new KeyedQueue({ name: "t", concurrency: 1, clock }, async (k) => {
      seen.push(k);
      if (k === "k1500") q.add("late");
    });
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    keys.forEach((k) => q.add(k));
    expect(q.stats().depth).toBe(3000);
    q.start();
    await q.idle();
    expect(seen).toEqual([...keys, "late"]);
    expect(q.stats().depth).toBe(0);
  });

  it("never runs one key twice at the same time, and re-runs it once when added during processing", async () => {
    const clock = new FakeClock();
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const q = new KeyedQueue({ name: "t", concurrency: 4, clock }, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await gate.promise;
      running--;
    });
    q.start();
    q.add("a");
    await flush();
    q.add("a");
    q.add("a");
    gate.resolve();
    await flush();
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it("bounds the number of keys processed concurrently", async () => {
    const clock = new FakeClock();
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    const q = new KeyedQueue({ name: "t", concurrency: 2, clock }, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running--;
    });
    q.start();
    ["a", "b", "c", "d"].forEach((k) => q.add(k));
    await flush();
    expect(q.stats().active).toBe(2);
    expect(q.stats().depth).toBe(2);
    gate.resolve();
    await q.idle();
    expect(maxRunning).toBe(2);
  });

  it("retries a failing key with exponential backoff and resets after a success", async () => {
    const clock = new FakeClock();
    const attempts: number[] = [];
    const delays: number[] = [];
    let fail = 3;
    const q = new KeyedQueue(
      {
        name: "t",
        concurrency: 1,
        clock,
        baseBackoffMs: 100,
        onError: (_k, _e, _a, ms) => delays.push(ms),
      },
      async () => {
        attempts.push(clock.now().getTime());
        if (fail-- > 0) throw new Error("boom");
      },
    );
    q.start();
    q.add("a");
    await flush();
    await clock.advance(1_000);
    expect(attempts).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(q.stats().retries).toBe(3);
  });

  it("requeues after the delay a reconcile asks for", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const q = new KeyedQueue({ name: "t", concurrency: 1, clock }, async () => {
      runs++;
      return runs === 1 ? { requeueAfterMs: 5_000 } : {};
    });
    q.start();
    q.add("a");
    await flush();
    await clock.advance(4_999);
    expect(runs).toBe(1);
    await clock.advance(1);
    expect(runs).toBe(2);
  });

  it("keeps only the earliest pending delay of a key", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const q = new KeyedQueue({ name: "t", concurrency: 1, clock }, async () => {
      runs++;
    });
    q.start();
    q.addAfter("a", 10_000);
    q.addAfter("a", 1_000);
    q.addAfter("a", 5_000);
    await clock.advance(1_000);
    expect(runs).toBe(1);
    await clock.advance(20_000);
    expect(runs).toBe(1);
  });

  it("holds keys while paused and processes them when started", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new KeyedQueue({ name: "t", concurrency: 1, clock }, async (k) => {
      seen.push(k);
    });
    q.add("a");
    await flush();
    expect(seen).toEqual([]);
    q.start();
    await q.idle();
    expect(seen).toEqual(["a"]);
  });
});
