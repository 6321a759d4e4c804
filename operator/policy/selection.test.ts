import type { V1Pod } from "@kubernetes/client-node";
import { matchesSelector, podQualifies, selectIdentity, type IdentityCandidate } from "./selection";

const pod = (labels: Record<string, string>, sa?: string, ns = "shop"): V1Pod => ({
  metadata: { name: "p", namespace: ns, labels },
  spec: { containers: [], ...(sa ? { serviceAccountName: sa } : {}) },
});
const identity = (
  name: string,
  created: string,
  extra: Partial<IdentityCandidate["spec"]> = {},
  ns = "shop",
): IdentityCandidate => ({
  metadata: { name, namespace: ns, creationTimestamp: created },
  spec: { selector: { matchLabels: { app: "pay" } }, ...extra },
});

describe("matchesSelector", () => {
  it.each([
    [
      "matchLabels that all hold match",
      { matchLabels: { a: "1", b: "2" } },
      { a: "1", b: "2", c: "3" },
      true,
    ],
    ["a differing label value does not match", { matchLabels: { a: "1" } }, { a: "2" }, false],
    [
      "In matches a listed value",
      { matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] },
      { a: "2" },
      true,
    ],
    [
      "In does not match a missing label",
      { matchExpressions: [{ key: "a", operator: "In", values: ["1"] }] },
      {},
      false,
    ],
    [
      "NotIn matches a missing label",
      { matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] },
      {},
      true,
    ],
    [
      "NotIn refuses a listed value",
      { matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] },
      { a: "1" },
      false,
    ],
    [
      "Exists needs the key",
      { matchExpressions: [{ key: "a", operator: "Exists" }] },
      { a: "" },
      true,
    ],
    [
      "DoesNotExist refuses the key",
      { matchExpressions: [{ key: "a", operator: "DoesNotExist" }] },
      { a: "x" },
      false,
    ],
    ["an empty selector matches every pod", {}, { a: "1" }, true],
    [
      "an unknown operator never matches",
      { matchExpressions: [{ key: "a", operator: "Near" }] },
      { a: "1" },
      false,
    ],
  ])("%s", (_n, selector, labels, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("selects nothing without a selector", () => {
    expect(matchesSelector(undefined, { a: "1" })).toBe(false);
  });
});

describe("selectIdentity", () => {
  it("gives the pod to the only MeshIdentity that selects it", () => {
    const a = identity("a", "2026-01-01T00:00:00Z");
    expect(selectIdentity(pod({ app: "pay" }), [a])).toEqual({ winner: a, losers: [] });
  });

  it("refuses a pod running as another service account", () => {
    const a = identity("a", "2026-01-01T00:00:00Z", { serviceAccountName: "payments" });
    expect(selectIdentity(pod({ app: "pay" }, "other"), [a]).winner).toBeUndefined();
    expect(selectIdentity(pod({ app: "pay" }, "payments"), [a]).winner).toBe(a);
  });

  it("treats a pod without a service account as running as default", () => {
    const a = identity("a", "2026-01-01T00:00:00Z", { serviceAccountName: "default" });
    expect(selectIdentity(pod({ app: "pay" }), [a]).winner).toBe(a);
  });

  it("never selects a pod of another namespace", () => {
    const a = identity("a", "2026-01-01T00:00:00Z", {}, "other");
    expect(selectIdentity(pod({ app: "pay" }), [a]).winner).toBeUndefined();
  });

  it("gives a contested pod to the oldest MeshIdentity, the others lose", () => {
    const old = identity("zeta", "2026-01-01T00:00:00Z");
    const young = identity("alpha", "2026-06-01T00:00:00Z");
    expect(selectIdentity(pod({ app: "pay" }), [young, old])).toEqual({
      winner: old,
      losers: [young],
    });
  });

  it("breaks a tie in age by name", () => {
    const b = identity("b", "2026-01-01T00:00:00Z");
    const a = identity("a", "2026-01-01T00:00:00Z");
    expect(selectIdentity(pod({ app: "pay" }), [b, a]).winner).toBe(a);
  });

  it("ignores a MeshIdentity that is being deleted", () => {
    const a = identity("a", "2026-01-01T00:00:00Z");
    a.metadata!.deletionTimestamp = "2026-11-28T00:00:00Z";
    expect(selectIdentity(pod({ app: "pay" }), [a]).winner).toBeUndefined();
  });
});

describe("podQualifies", () => {
  it.each([
    ["a running pod qualifies", { phase: "Running" }, undefined, true],
    ["a pending pod qualifies", { phase: "Pending" }, undefined, true],
    ["a succeeded pod does not", { phase: "Succeeded" }, undefined, false],
    ["a failed pod does not", { phase: "Failed" }, undefined, false],
    ["a pod being deleted does not", { phase: "Running" }, "2026-11-28T00:00:00Z", false],
  ])("%s", (_n, status, deletion, expected) => {
    const p: V1Pod = {
      metadata: { name: "p", ...(deletion ? { deletionTimestamp: new Date(deletion) } : {}) },
      status,
    };
    expect(podQualifies(p)).toBe(expected);
  });
});
