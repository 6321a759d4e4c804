import { FakeClock } from "../testing/fake-clock";
import { Pacer } from "./pacer";

describe("Pacer", () => {
  it("spaces starts 1/rate apart and serves waiting pods in the order they asked", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 5);
    expect(pacer.take("a")).toBe(0);
    expect(pacer.take("b")).toBe(200);
    expect(pacer.take("c")).toBe(400);
    // Asking again before the reserved time neither moves the reservation nor takes another.
    await clock.advance(100);
    expect(pacer.take("b")).toBe(100);
    await clock.advance(100);
    expect(pacer.take("b")).toBe(0);
    expect(pacer.take("d")).toBe(400);
    await clock.advance(200);
    expect(pacer.take("c")).toBe(0);
  });

  it("never starts more than the rate within any second", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 5);
    const starts: number[] = [];
    const waits = new Map<string, number>();
    for (let t = 0; t < 3_000; t += 50) {
      for (const key of ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]) {
        if (waits.get(key) === -1) continue;
        if (pacer.take(key) === 0) {
          starts.push(clock.now().getTime());
          waits.set(key, -1);
        }
      }
      await clock.advance(50);
    }
    expect(starts).toHaveLength(8);
    for (const s of starts)
      expect(starts.filter((u) => u >= s && u < s + 1_000).length).toBeLessThanOrEqual(5);
  });

  it("keeps the spacing when a reserved turn is served late", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 5);
    expect(pacer.take("a")).toBe(0);
    expect(pacer.take("b")).toBe(200);
    expect(pacer.take("c")).toBe(400);
    await clock.advance(350); // b comes back late
    expect(pacer.take("b")).toBe(0);
    await clock.advance(50); // c's turn, but b started only 50 ms ago
    expect(pacer.take("c")).toBe(150);
    await clock.advance(150);
    expect(pacer.take("c")).toBe(0);
  });

  it("forgets a released reservation", () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 1);
    pacer.take("a");
    expect(pacer.take("b")).toBe(1_000);
    pacer.release("b");
    expect(pacer.take("b")).toBe(2_000);
  });
});
