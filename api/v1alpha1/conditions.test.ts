import { CONDITION_READY, Reason, findCondition, formatTime, setCondition } from "./conditions";
import type { Condition } from "./types";

const t0 = new Date("2026-11-28T10:00:00.123Z");
const t1 = new Date("2026-11-28T11:00:00Z");

const ready = (
  status: Condition["status"],
  reason: string,
  at = "2026-11-28T10:00:00Z",
): Condition => ({
  type: CONDITION_READY,
  status,
  reason,
  message: "m",
  lastTransitionTime: at,
  observedGeneration: 1,
});

describe("setCondition", () => {
  it.each<[string, Condition[] | undefined, Omit<Condition, "lastTransitionTime">, Condition[]]>([
    [
      "adds a condition to an empty status, stamped with now",
      undefined,
      {
        type: CONDITION_READY,
        status: "True",
        reason: Reason.Issued,
        message: "m",
        observedGeneration: 1,
      },
      [ready("True", Reason.Issued, "2026-11-28T11:00:00Z")],
    ],
    [
      "keeps the transition time when only the reason changes",
      [ready("False", Reason.Pending)],
      {
        type: CONDITION_READY,
        status: "False",
        reason: Reason.IssueFailed,
        message: "m",
        observedGeneration: 1,
      },
      [ready("False", Reason.IssueFailed)],
    ],
    [
      "moves the transition time when the status changes",
      [ready("False", Reason.Pending)],
      {
        type: CONDITION_READY,
        status: "True",
        reason: Reason.Issued,
        message: "m",
        observedGeneration: 1,
      },
      [ready("True", Reason.Issued, "2026-11-28T11:00:00Z")],
    ],
    [
      "leaves other condition types in place and in order",
      [{ ...ready("True", "X"), type: "Other" }, ready("False", Reason.Pending)],
      {
        type: CONDITION_READY,
        status: "False",
        reason: Reason.Pending,
        message: "m",
        observedGeneration: 1,
      },
      [{ ...ready("True", "X"), type: "Other" }, ready("False", Reason.Pending)],
    ],
  ])("%s", (_name, before, next, expected) => {
    expect(setCondition(before, next, t1)).toEqual(expected);
  });

  it("returns an equal list when nothing changed, so the caller can skip the write", () => {
    const before = [ready("True", Reason.Issued)];
    const { lastTransitionTime: _ignored, ...same } = before[0]!;
    expect(setCondition(before, same, t1)).toEqual(before);
  });

  it("does not modify the list it is given", () => {
    const before = [ready("False", Reason.Pending)];
    setCondition(before, { ...before[0]!, status: "True", reason: Reason.Issued }, t1);
    expect(before).toEqual([ready("False", Reason.Pending)]);
  });
});

describe("findCondition", () => {
  it.each<[string, Condition[] | undefined, string | undefined]>([
    ["finds the condition of a type", [ready("True", Reason.Issued)], Reason.Issued],
    ["returns undefined for a missing type", [{ ...ready("True", "X"), type: "Other" }], undefined],
    ["returns undefined when there is no status yet", undefined, undefined],
  ])("%s", (_name, conditions, reason) => {
    expect(findCondition(conditions, CONDITION_READY)?.reason).toBe(reason);
  });
});

describe("formatTime", () => {
  it("writes RFC 3339 in UTC with whole seconds, as metav1.Time does", () => {
    expect(formatTime(t0)).toBe("2026-11-28T10:00:00Z");
  });
});

describe("Reason", () => {
  it("holds CamelCase words the status schema accepts as a reason", () => {
    for (const reason of Object.values(Reason)) expect(reason).toMatch(/^[A-Z][A-Za-z]*$/);
  });
});
