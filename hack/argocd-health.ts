/**
 * The MeshIdentity health check in Argo CD's layout,
 * `manifests/argocd/resource_customizations/meshid.dev/MeshIdentity/`: `health.lua` (written by
 * hand) and its `health_test.yaml` and `testdata/*.yaml` (generated here). Every case whose object
 * the operator could have written takes its status from the operator's own `computeStatus`, and its
 * expected message from the Ready condition that computation produced, so the cases follow the
 * operator's messages and reasons and cannot drift from them.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { Reason } from "../api/v1alpha1/conditions";
import { GROUP, KIND } from "../api/v1alpha1/names";
import type { StatusInput } from "../operator/policy/status";
import { edgeCases } from "./argocd-health-edge-cases";
import {
  identity,
  readyMessage,
  statusOf,
  type Health,
  type HealthCase,
} from "./argocd-health-objects";

/** healthCheckDir is the Argo CD resource_customizations directory of MeshIdentity. */
export const healthCheckDir = join("manifests", "argocd", "resource_customizations", GROUP, KIND);

/**
 * byReason classifies every reason of the Ready condition. It is a Record over Reason: a reason
 * added to api/ does not compile until it is classified here (and, when it is not Degraded, in
 * health.lua).
 */
export const byReason: Record<Reason, { counts: Partial<StatusInput>; health: Health }> = {
  Issued: { counts: {}, health: "Healthy" },
  RestartRequired: { counts: { restartRequired: 2 }, health: "Healthy" },
  Pending: { counts: { issued: 1 }, health: "Progressing" },
  NoPodsSelected: { counts: { selected: 0, issued: 0 }, health: "Progressing" },
  CANotReady: {
    counts: { ca: { ready: false, message: "Secret meshid-system/meshid-ca is corrupt" } },
    health: "Degraded",
  },
  IssueFailed: { counts: { issued: 2, failure: "Secret write refused" }, health: "Degraded" },
  DNSNameNotAllowed: {
    counts: {
      specProblem: { reason: Reason.DNSNameNotAllowed, message: "api.example.org not allowed" },
    },
    health: "Degraded",
  },
  DNSNameInvalid: {
    counts: { specProblem: { reason: Reason.DNSNameInvalid, message: "label too long" } },
    health: "Degraded",
  },
  InvalidSpec: {
    counts: { specProblem: { reason: Reason.InvalidSpec, message: "renewBefore >= duration" } },
    health: "Degraded",
  },
  Conflict: { counts: { conflicts: 3 }, health: "Degraded" },
};

/** kebab turns a reason into a file name part: CANotReady → ca-not-ready. */
const kebab = (s: string) =>
  s
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .replace(/([a-z])([A-Z])/g, "$1-$2")
    .toLowerCase();

/** operatorCases are the statuses the operator writes, one per reason. */
function operatorCases(): HealthCase[] {
  return Object.entries(byReason).map(([reason, { counts, health }]) => {
    const status = statusOf(counts);
    return {
      file: `${health.toLowerCase()}-${kebab(reason)}.yaml`,
      why: `The operator's status with reason ${reason} is ${health}.`,
      object: identity(status),
      expected: { status: health, message: readyMessage(status) },
    };
  });
}

/** healthCases lists every case of health_test.yaml, sorted by file name. */
export function healthCases(): HealthCase[] {
  return [...operatorCases(), ...edgeCases()].sort((a, b) => a.file.localeCompare(b.file));
}

/** HealthFile is one generated file: its path from the repository root and its content. */
export interface HealthFile {
  path: string;
  content: string;
}

/** renderHealthTests renders health_test.yaml and testdata/*.yaml, each under `header`. */
export function renderHealthTests(header: string): HealthFile[] {
  const cases = healthCases();
  const render = (v: unknown) => stringify(v, { lineWidth: 0 });
  const tests = {
    tests: cases.map((c) => ({
      healthStatus: c.expected,
      inputPath: `testdata/${c.file}`,
    })),
  };
  return [
    { path: join(healthCheckDir, "health_test.yaml"), content: `${header}\n${render(tests)}` },
    ...cases.map((c) => ({
      path: join(healthCheckDir, "testdata", c.file),
      content: `${header}\n# ${c.why}\n${render(c.object)}`,
    })),
  ];
}
