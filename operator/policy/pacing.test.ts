import { pacedDue, specWindowFor, spreadFraction, spreadWindowMs } from "./pacing";

describe("spreadFraction", () => {
  it("spreads pod UIDs over [0, 1) and gives each UID one stable slot", () => {
    const slots = Array.from({ length: 200 }, (_, i) => spreadFraction(`uid-${i}`));
    expect(slots.every((f) => f >= 0 && f < 1)).toBe(true);
    expect(new Set(slots).size).toBe(200);
    expect(Math.min(...slots)).toBeLessThan(0.1);
    expect(Math.max(...slots)).toBeGreaterThan(0.9);
    expect(spreadFraction("uid-7")).toBe(slots[7]);
  });
});

describe("spreadWindowMs", () => {
  it.each([
    ["60 pods at 20 a second take 3 seconds", 60, 20, 3_000],
    ["one pod at 3 a second takes a third of a second, rounded up", 1, 3, 334],
    ["no pods need no window", 0, 20, 0],
    ["a rate of zero paces nothing", 60, 0, 0],
  ])("%s", (_n, pods, ratePerSecond, want) => {
    expect(spreadWindowMs(pods, { ratePerSecond })).toBe(want);
  });
});

describe("pacedDue", () => {
  const since = new Date("2026-11-29T10:00:00Z");

  it("puts every pod inside the window, at the same slot each time", () => {
    const due = Array.from({ length: 500 }, (_, i) => pacedDue(since, 10_000, `uid-${i}`));
    expect(due.every((d) => d >= since && d.getTime() < since.getTime() + 10_000)).toBe(true);
    expect(pacedDue(since, 10_000, "uid-3")).toEqual(due[3]);
  });

  it("keeps each second of the window near the rate: 500 pods over 10 s, at most 80 in any second", () => {
    const perSecond = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const s = Math.floor(
        (pacedDue(since, 10_000, `pod-${i}`).getTime() - since.getTime()) / 1000,
      );
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(80);
  });
});

describe("specWindowFor", () => {
  const t0 = new Date("2026-11-30T00:00:00Z");
  const at = (ms: number) => new Date(t0.getTime() + ms);

  it("opens a window when a generation is first seen", () => {
    expect(specWindowFor(undefined, 2, t0, 60_000)).toEqual({ generation: 2, since: t0 });
  });

  it("keeps the window of a generation already seen", () => {
    const seen = { generation: 2, since: t0 };
    expect(specWindowFor(seen, 2, at(90_000), 60_000)).toBe(seen);
  });

  it("keeps an open window through a further edit, so no pod's turn moves back", () => {
    expect(specWindowFor({ generation: 2, since: t0 }, 3, at(30_000), 60_000)).toEqual({
      generation: 3,
      since: t0,
    });
  });

  it("opens a new window for an edit after the last one closed", () => {
    expect(specWindowFor({ generation: 2, since: t0 }, 3, at(61_000), 60_000)).toEqual({
      generation: 3,
      since: at(61_000),
    });
  });
});
