import { renewRequestOf } from "./renew-request";

const at = (t: string) => ({ annotations: { "meshid.dev/renew-requested-at": t } });

describe("renewRequestOf", () => {
  it.each([
    [
      "a pod's own request applies at once",
      at("2026-11-29T10:00:00Z"),
      undefined,
      3,
      { at: new Date("2026-11-29T10:00:00Z"), spreadMs: 0 },
    ],
    [
      "a MeshIdentity's request is spread over 50 ms per selected pod",
      undefined,
      at("2026-11-29T10:00:00Z"),
      3,
      { at: new Date("2026-11-29T10:00:00Z"), spreadMs: 150 },
    ],
    [
      "a MeshIdentity's request over 20,000 pods keeps the rate: 1,000 seconds at 20 a second",
      undefined,
      at("2026-11-29T10:00:00Z"),
      20_000,
      { at: new Date("2026-11-29T10:00:00Z"), spreadMs: 1_000_000 },
    ],
    [
      "the later of the two wins (the pod's)",
      at("2026-11-29T11:00:00Z"),
      at("2026-11-29T10:00:00Z"),
      3,
      { at: new Date("2026-11-29T11:00:00Z"), spreadMs: 0 },
    ],
    [
      "the later of the two wins (the MeshIdentity's)",
      at("2026-11-29T10:00:00Z"),
      at("2026-11-29T11:00:00Z"),
      3,
      { at: new Date("2026-11-29T11:00:00Z"), spreadMs: 150 },
    ],
    ["an unreadable time is no request", at("soon"), undefined, 3, undefined],
    ["no annotation is no request", {}, {}, 3, undefined],
  ])("%s", (_n, pod, identity, selected, want) => {
    expect(renewRequestOf(pod, identity, selected)).toEqual(want);
  });

  it("paces a MeshIdentity's request at the configured rate", () => {
    const request = renewRequestOf(undefined, at("2026-11-29T10:00:00Z"), 30, {
      ratePerSecond: 5,
    });
    expect(request?.spreadMs).toBe(6_000);
  });
});
