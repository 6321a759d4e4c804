import type { RootRotation, RootRotationPhase } from "../../api/v1alpha1/meshca";
import {
  nextRotationStep,
  phaseAfter,
  rotationInProgress,
  type RotationAction,
  type RotationFacts,
} from "./root-rotation";

const now = new Date("2026-11-30T03:00:00Z");

const state = (phase: RootRotationPhase, extra: Partial<RootRotation> = {}): RootRotation => ({
  id: "r2",
  phase,
  since: "2026-11-30T02:00:00Z",
  ...extra,
});

const facts = (f: Partial<RotationFacts>): RotationFacts => ({
  now,
  soakMs: 120_000,
  bundleHasNext: false,
  signingWithNext: false,
  carriersPending: 0,
  leavesOnPrevious: 0,
  ...f,
});

describe("nextRotationStep", () => {
  it.each<[string, Partial<RotationFacts>, RotationAction]>([
    ["nothing requested and nothing under way is idle", {}, "idle"],
    ["a new token with no rotation starts one", { requested: "r1" }, "start"],
    [
      "the token of the last completed rotation starts nothing",
      { requested: "r1", state: state("Retired", { id: "r1", completed: "r1" }) },
      "idle",
    ],
    [
      "a new token after a completed rotation starts another",
      { requested: "r2", state: state("Retired", { id: "r1", completed: "r1" }) },
      "start",
    ],
    [
      "a token put back after a rollback starts nothing again",
      { requested: "r1", state: state("RolledBack", { completed: "r1" }) },
      "idle",
    ],
    [
      "a Pending rotation still requested is tried again",
      { requested: "r2", state: state("Pending") },
      "start",
    ],
    [
      "a Pending rotation no longer requested is rolled back",
      { state: state("Pending") },
      "rollback",
    ],
    [
      "a token refused during the last rotation starts nothing after it",
      { requested: "r0", state: state("Retired", { completed: "r2", refused: "r0" }) },
      "idle",
    ],
    ["Prepared propagates", { requested: "r2", state: state("Prepared") }, "propagate"],
    [
      "Propagating with the next root missing from the loaded bundle propagates again",
      { requested: "r2", state: state("Propagating") },
      "propagate",
    ],
    [
      "Propagating waits while a carrier lags",
      { requested: "r2", state: state("Propagating"), bundleHasNext: true, carriersPending: 3 },
      "wait",
    ],
    [
      "Propagating records when every carrier first holds both roots",
      { requested: "r2", state: state("Propagating"), bundleHasNext: true },
      "mark-carriers-updated",
    ],
    [
      "Propagating soaks after every carrier is updated",
      {
        requested: "r2",
        state: state("Propagating", { carriersUpdatedAt: "2026-11-30T02:59:00Z" }),
        bundleHasNext: true,
      },
      "wait",
    ],
    [
      "Propagating activates once the soak is over",
      {
        requested: "r2",
        state: state("Propagating", { carriersUpdatedAt: "2026-11-30T02:58:00Z" }),
        bundleHasNext: true,
      },
      "activate",
    ],
    [
      "Propagating does not activate while a carrier lags, even after the soak",
      {
        requested: "r2",
        state: state("Propagating", { carriersUpdatedAt: "2026-11-30T02:00:00Z" }),
        bundleHasNext: true,
        carriersPending: 1,
      },
      "wait",
    ],
    [
      "Active waits until the next intermediate is loaded",
      { requested: "r2", state: state("Active") },
      "wait",
    ],
    [
      "Active drains once the next intermediate signs",
      { requested: "r2", state: state("Active"), signingWithNext: true },
      "drain",
    ],
    [
      "Draining waits while a leaf is on a previous intermediate",
      { requested: "r2", state: state("Draining"), signingWithNext: true, leavesOnPrevious: 4 },
      "wait",
    ],
    [
      "Draining records when every leaf is first on the current intermediate",
      { requested: "r2", state: state("Draining"), signingWithNext: true },
      "mark-leaves-moved",
    ],
    [
      "Draining soaks before retiring, so pods load their new leaves first",
      {
        requested: "r2",
        state: state("Draining", { leavesMovedAt: "2026-11-30T02:59:00Z" }),
        signingWithNext: true,
      },
      "wait",
    ],
    [
      "Draining retires once the soak after the last leaf moved is over",
      {
        requested: "r2",
        state: state("Draining", { leavesMovedAt: "2026-11-30T02:58:00Z" }),
        signingWithNext: true,
      },
      "retire",
    ],
    [
      "Draining waits until the pod certificates kubelet holds from before Active have expired",
      {
        requested: "r2",
        state: state("Draining", { leavesMovedAt: "2026-11-30T02:00:00Z" }),
        signingWithNext: true,
        podCertificatesUntil: new Date("2026-11-30T04:00:00Z"),
      },
      "wait",
    ],
    [
      "Draining retires once those pod certificates have expired too",
      {
        requested: "r2",
        state: state("Draining", { leavesMovedAt: "2026-11-30T02:00:00Z" }),
        signingWithNext: true,
        podCertificatesUntil: new Date("2026-11-30T02:30:00Z"),
      },
      "retire",
    ],
    [
      "Draining waits again when a leaf is back on a previous intermediate",
      {
        requested: "r2",
        state: state("Draining", { leavesMovedAt: "2026-11-30T02:00:00Z" }),
        leavesOnPrevious: 1,
      },
      "wait",
    ],
    ["Prepared no longer requested is rolled back", { state: state("Prepared") }, "rollback"],
    [
      "Propagating asked for another token is rolled back",
      { requested: "r3", state: state("Propagating"), bundleHasNext: true },
      "rollback",
    ],
  ])("%s", (_name, f, action) => {
    expect(nextRotationStep(facts(f)).action).toBe(action);
  });

  it("says how long the soak has left", () => {
    const step = nextRotationStep(
      facts({
        requested: "r2",
        state: state("Propagating", { carriersUpdatedAt: "2026-11-30T02:59:30Z" }),
        bundleHasNext: true,
      }),
    );
    expect(step).toMatchObject({ action: "wait", afterMs: 90_000 });
    expect(step.message).toContain("2026-11-30T03:01:30.000Z");
  });

  it.each<[RootRotationPhase, Partial<RotationFacts>, RotationAction]>([
    ["Active", { signingWithNext: true }, "drain"],
    ["Draining", { leavesOnPrevious: 2 }, "wait"],
  ])("refuses a rollback once %s and goes on", (phase, f, action) => {
    const step = nextRotationStep(facts({ ...f, state: state(phase) }));
    expect(step.action).toBe(action);
    expect(step.refused).toMatch(/cannot be rolled back/);
  });

  it("says how many carriers it waits for", () => {
    const step = nextRotationStep(
      facts({
        requested: "r2",
        state: state("Propagating"),
        bundleHasNext: true,
        carriersPending: 7,
      }),
    );
    expect(step.message).toMatch(/waiting for 7 carrier/);
  });
});

describe("rotationInProgress", () => {
  it.each<[RootRotationPhase, boolean]>([
    ["Pending", false],
    ["Prepared", true],
    ["Propagating", true],
    ["Active", true],
    ["Draining", true],
    ["Retired", false],
    ["RolledBack", false],
  ])("%s is in progress: %s", (phase, want) => {
    expect(rotationInProgress(state(phase))).toBe(want);
  });
});

describe("phaseAfter", () => {
  it.each<[RotationAction, RootRotationPhase | undefined]>([
    ["start", "Prepared"],
    ["propagate", "Propagating"],
    ["activate", "Active"],
    ["drain", "Draining"],
    ["retire", "Retired"],
    ["rollback", "RolledBack"],
    ["wait", undefined],
    ["mark-carriers-updated", undefined],
    ["mark-leaves-moved", undefined],
  ])("%s leads to %s", (action, phase) => {
    expect(phaseAfter(action)).toBe(phase);
  });
});
