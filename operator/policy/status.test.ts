import { computeStatus, readyCondition, statusEqual, type StatusInput } from "./status";

const now = new Date("2026-11-28T12:00:00Z");
const base: StatusInput = {
  generation: 2,
  ca: { ready: true },
  selected: 3,
  conflicts: 0,
  issued: 3,
  restartRequired: 0,
  now,
};

describe("readyCondition", () => {
  it.each<[string, Partial<StatusInput>, "True" | "False", string]>([
    ["every pod holding a current certificate is Ready", {}, "True", "Issued"],
    [
      "a CA problem comes first",
      { ca: { ready: false, message: "corrupt" }, issued: 0 },
      "False",
      "CANotReady",
    ],
    [
      "a DNS name outside the namespace blocks issuance",
      { specProblem: { reason: "DNSNameNotAllowed", message: "x" }, issued: 0 },
      "False",
      "DNSNameNotAllowed",
    ],
    ["no selected pod is not ready", { selected: 0, issued: 0 }, "False", "NoPodsSelected"],
    [
      "losing every pod to an older MeshIdentity is a conflict",
      { conflicts: 3, issued: 0 },
      "False",
      "Conflict",
    ],
    ["pods still waiting are pending", { issued: 1 }, "False", "Pending"],
    [
      "a failure while pods wait is IssueFailed",
      { issued: 1, failure: "signing failed" },
      "False",
      "IssueFailed",
    ],
    [
      "pods that must restart to mount their certificate are ready with RestartRequired",
      { restartRequired: 2 },
      "True",
      "RestartRequired",
    ],
    ["a partial conflict still serves its own pods", { conflicts: 1, issued: 2 }, "True", "Issued"],
  ])("%s", (_n, over, status, reason) => {
    const c = readyCondition({ ...base, ...over });
    expect([c.status, c.reason]).toEqual([status, reason]);
    expect(c.observedGeneration).toBe(2);
  });

  it("says how many pods hold a certificate", () => {
    expect(readyCondition({ ...base, issued: 1 }).message).toBe(
      "1/3 pods hold a current certificate",
    );
  });
});

describe("computeStatus", () => {
  it("keeps lastTransitionTime when Ready's status does not change, so a recompute equals the old status", () => {
    const first = computeStatus(base);
    const later = computeStatus({
      ...base,
      previous: first,
      now: new Date(now.getTime() + 60_000),
    });
    expect(statusEqual(first, later)).toBe(true);
  });

  it("moves lastTransitionTime when Ready's status flips", () => {
    const first = computeStatus(base);
    const later = computeStatus({
      ...base,
      issued: 1,
      previous: first,
      now: new Date(now.getTime() + 60_000),
    });
    expect(later.conditions?.[0]?.lastTransitionTime).toBe("2026-11-28T12:01:00Z");
  });

  it("reports counts and the next renewal", () => {
    const s = computeStatus({ ...base, nextRenewal: new Date("2026-11-29T02:10:00Z") });
    expect(s).toMatchObject({
      observedGeneration: 2,
      selectedPods: 3,
      issuedPods: 3,
      nextRenewalTime: "2026-11-29T02:10:00Z",
    });
  });
});
