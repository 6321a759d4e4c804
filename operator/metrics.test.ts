import type { V1Pod } from "@kubernetes/client-node";
import { FakeClock } from "./testing/fake-clock";
import { Metrics } from "./metrics";

const pod = (name: string): V1Pod => ({ metadata: { name } });

function setup() {
  const clock = new FakeClock();
  const metrics = new Metrics(clock, {
    queues: () => ({}),
    requests: () => ({ reads: 0, writes: 0 }),
    isLeader: () => true,
    caNotAfter: () => undefined,
  });
  /** latency returns the latency histogram's count and sum per namespace. */
  const latency = async () => {
    const out: Record<string, { count: number; sum: number }> = {};
    const histogram = metrics.registry.getSingleMetric("meshid_issuance_latency_seconds")!;
    for (const v of (await histogram.get()).values) {
      const ns = String(v.labels.namespace);
      const name = (v as { metricName?: string }).metricName ?? "";
      if (name.endsWith("_count")) (out[ns] ??= { count: 0, sum: 0 }).count = v.value;
      if (name.endsWith("_sum")) (out[ns] ??= { count: 0, sum: 0 }).sum = v.value;
    }
    return out;
  };
  return { clock, metrics, latency };
}

describe("Metrics.issued", () => {
  it("observes the time from first seeing a pod to its first certificate, by namespace", async () => {
    const { clock, metrics, latency } = setup();
    metrics.podSeen("a/web-0");
    await clock.advance(1_500);
    metrics.podSeen("a/web-0"); // a later event about the same pod does not restart the clock
    await clock.advance(500);
    metrics.issued("a", "new", pod("web-0"));
    expect(await latency()).toEqual({ a: { count: 1, sum: 2 } });
  });

  it("observes a pod once even when its Secret is deleted and issued as new again", async () => {
    const { clock, metrics, latency } = setup();
    metrics.podSeen("a/web-0");
    metrics.issued("a", "new", pod("web-0"));
    await clock.advance(60_000);
    metrics.podSeen("a/web-0");
    metrics.issued("a", "new", pod("web-0"));
    expect(await latency()).toEqual({ a: { count: 1, sum: 0 } });
  });

  it("observes a pod of the same name again after the first one was deleted", async () => {
    const { clock, metrics, latency } = setup();
    metrics.podSeen("a/web-0");
    metrics.issued("a", "new", pod("web-0"));
    metrics.podGone("a/web-0");
    metrics.podSeen("a/web-0");
    await clock.advance(250);
    metrics.issued("a", "new", pod("web-0"));
    expect(await latency()).toEqual({ a: { count: 2, sum: 0.25 } });
  });

  it.each(["renewal", "spec-change", "ca-change"] as const)(
    "observes no latency for a %s issuance",
    async (reason) => {
      const { metrics, latency } = setup();
      metrics.podSeen("a/web-0");
      metrics.issued("a", reason, pod("web-0"));
      expect(await latency()).toEqual({});
    },
  );
});

describe("Metrics.rotationTransition", () => {
  it("counts each root rotation transition by the phase left and the phase entered", async () => {
    const { metrics } = setup();
    metrics.rotationTransition("None", "Prepared");
    metrics.rotationTransition("Prepared", "Propagating");
    metrics.rotationTransition("None", "Prepared");
    const counter = metrics.registry.getSingleMetric("meshid_ca_rotation_transitions_total")!;
    const values = (await counter.get()).values.map((v) => [v.labels.from, v.labels.to, v.value]);
    expect(values).toEqual([
      ["None", "Prepared", 2],
      ["Prepared", "Propagating", 1],
    ]);
  });
});

describe("Metrics event-loop delay", () => {
  it("exports the median, the 99th percentile and the longest delay since the process started", async () => {
    const { metrics } = setup();
    const gauge = metrics.registry.getSingleMetric("meshid_event_loop_delay_seconds")!;
    const values = (await gauge.get()).values;
    expect(values.map((v) => v.labels.quantile)).toEqual(["0.5", "0.99", "1"]);
    for (const v of values) expect(Number.isFinite(v.value)).toBe(true);
  });
});
