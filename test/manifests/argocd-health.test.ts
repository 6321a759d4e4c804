/**
 * The Argo CD pieces: the MeshIdentity health check run by a real Lua 5.1 interpreter on statuses
 * the operator's own status policy computes, the argocd-cm patch that installs it, and the
 * Application example.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { Reason } from "../../api/v1alpha1/conditions";
import type { MeshIdentity, MeshIdentityStatus } from "../../api/v1alpha1/types";
import { computeStatus, type StatusInput } from "../../operator/policy/status";
import { healthCheckKey, operatorNamespace, repoRoot } from "../../hack/gen-manifests";
import { createNamespace, kubectl, testKubeConfig } from "../support/kube";
import { healthScript, luaCompiler, requireLua, runHealthCheck } from "./lua";

jest.setTimeout(30_000);

beforeAll(() => requireLua());

const now = new Date("2026-11-28T12:00:00Z");

/** statusOf is the status the operator writes for these counts (generation 4 unless given). */
function statusOf(counts: Partial<StatusInput>): MeshIdentityStatus {
  return computeStatus({
    generation: 4,
    ca: { ready: true },
    selected: 3,
    conflicts: 0,
    issued: 3,
    restartRequired: 0,
    now,
    ...counts,
  });
}

function identity(status?: MeshIdentityStatus, generation = 4): MeshIdentity {
  return {
    apiVersion: "meshid.dev/v1alpha1",
    kind: "MeshIdentity",
    metadata: { name: "payments", namespace: "shop", generation },
    spec: { selector: { matchLabels: { app: "payments" } } },
    ...(status ? { status } : {}),
  };
}

type Health = "Healthy" | "Progressing" | "Degraded";

// A Record over every Reason: adding a reason to api/ fails to compile until it is classified here
// (and, if it is not Degraded, in health.lua).
const byReason: Record<Reason, { counts: Partial<StatusInput>; health: Health }> = {
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

describe("health.lua on the statuses the operator writes", () => {
  it.each(Object.entries(byReason).map(([r, { health, counts }]) => [r, health, counts] as const))(
    "reports reason %s as %s with the condition's message",
    (reason, health, counts) => {
      const status = statusOf(counts);
      const ready = status.conditions!.find((c) => c.type === "Ready")!;
      expect(ready.reason).toBe(reason);
      expect(runHealthCheck(identity(status))).toEqual({
        status: health,
        message: ready.message,
      });
    },
  );
});

describe("health.lua before the operator has caught up", () => {
  it("reports a MeshIdentity without status as Progressing", () => {
    expect(runHealthCheck(identity())).toEqual({
      status: "Progressing",
      message: "Waiting for the meshid operator to report status",
    });
  });

  it("reports a status without conditions as Progressing", () => {
    expect(runHealthCheck(identity({ observedGeneration: 4 })).status).toBe("Progressing");
  });

  it("reports Ready=True computed from an older generation as Progressing", () => {
    expect(runHealthCheck(identity(statusOf({ generation: 3 }), 4))).toEqual({
      status: "Progressing",
      message: "Waiting for the meshid operator to observe generation 4",
    });
  });

  it("reports Progressing when only the condition's observedGeneration is behind", () => {
    const status = statusOf({ generation: 3 });
    expect(runHealthCheck(identity({ ...status, observedGeneration: 4 }, 4)).status).toBe(
      "Progressing",
    );
  });

  it("reports Ready=False from an older generation as Progressing, not Degraded", () => {
    const status = statusOf({ generation: 3, conflicts: 3 });
    expect(runHealthCheck(identity(status, 4)).status).toBe("Progressing");
  });

  it("judges a status without observedGeneration by its condition", () => {
    const { observedGeneration: _, ...status } = statusOf({});
    const conditions = status.conditions!.map(({ observedGeneration: _g, ...c }) => c);
    expect(runHealthCheck(identity({ ...status, conditions })).status).toBe("Healthy");
  });
});

describe("health.lua on conditions it does not know", () => {
  const withReady = (ready: Record<string, unknown>) =>
    identity({
      observedGeneration: 4,
      conditions: [
        {
          type: "Other",
          status: "True",
          reason: "X",
          message: "not this one",
          lastTransitionTime: "",
        },
        { type: "Ready", lastTransitionTime: "2026-11-28T12:00:00Z", ...ready } as never,
      ],
    });

  it("reports Ready=Unknown as Progressing", () => {
    expect(
      runHealthCheck(withReady({ status: "Unknown", reason: "Starting", message: "starting" })),
    ).toEqual({ status: "Progressing", message: "starting" });
  });

  it("reports Ready=False with a reason newer than the script as Degraded", () => {
    expect(
      runHealthCheck(withReady({ status: "False", reason: "SomethingNew", message: "broken" })),
    ).toEqual({ status: "Degraded", message: "broken" });
  });

  it("says status and reason when the condition has no message", () => {
    expect(runHealthCheck(withReady({ status: "False", reason: "CANotReady" }))).toEqual({
      status: "Degraded",
      message: "Ready=False (CANotReady)",
    });
  });

  it("carries a message with quotes, backslashes and non-ASCII text unchanged", () => {
    const message = 'DNS name "a\\b" is not allowed — ünïcode';
    expect(
      runHealthCheck(withReady({ status: "False", reason: "DNSNameNotAllowed", message })),
    ).toEqual({ status: "Degraded", message });
  });
});

describe("health.lua as Argo CD runs it", () => {
  it("sets no global and reads no global but obj and Lua's base functions", () => {
    // Argo CD's gopher-lua sandbox offers no io or os; a misspelt local would read as nil.
    const listing = execFileSync(luaCompiler, ["-p", "-l", healthScript], { encoding: "utf8" });
    const globals = (op: string) =>
      new Set([...listing.matchAll(new RegExp(`${op}\\s.*; (\\S+)`, "g"))].map((m) => m[1]));
    expect([...globals("SETGLOBAL")]).toEqual([]);
    const allowed = ["obj", "ipairs", "pairs", "tostring", "tonumber", "type", "string", "table"];
    expect([...globals("GETGLOBAL")].filter((g) => !allowed.includes(g!))).toEqual([]);
    expect(globals("GETGLOBAL")).toContain("obj");
  });

  it("makes the harness fail when a script returns no table, so no check passes by accident", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshid-lua-"));
    const script = join(dir, "broken.lua");
    writeFileSync(script, "local hs = {}\n");
    try {
      expect(() => runHealthCheck(identity(), script)).toThrow(/returned nil, not a table/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("argocd-cm-health-patch.yaml", () => {
  const patchFile = join(repoRoot, "manifests", "argocd", "argocd-cm-health-patch.yaml");

  it("adds health.lua under Argo CD's key and keeps the ConfigMap's other settings", async () => {
    const ns = await createNamespace(testKubeConfig(), "argocd");
    await kubectl(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "argocd-cm" },
        data: { "timeout.reconciliation": "180s" },
      }),
    );
    await kubectl(["patch", "-n", ns, "configmap", "argocd-cm", "--patch-file", patchFile]);
    const json = await kubectl(["get", "-n", ns, "configmap", "argocd-cm", "-o", "json"]);
    const cm = JSON.parse(json) as { data: Record<string, string> };
    expect(cm.data).toEqual({
      "timeout.reconciliation": "180s",
      [healthCheckKey]: readFileSync(healthScript, "utf8"),
    });
    expect(healthCheckKey).toBe("resource.customizations.health.meshid.dev_MeshIdentity");
  });
});

describe("application.yaml", () => {
  interface Application {
    spec: {
      source: { repoURL: string; path: string };
      destination: { namespace: string };
      syncPolicy: { automated: { prune: boolean; selfHeal: boolean }; syncOptions: string[] };
      ignoreDifferences: { kind: string; name: string; jqPathExpressions: string[] }[];
    };
  }
  const app = parse(
    readFileSync(join(repoRoot, "manifests", "argocd", "application.yaml"), "utf8"),
  ) as Application;

  it("syncs the kustomization that installs everything, into the operator's namespace", () => {
    expect(existsSync(join(repoRoot, app.spec.source.path, "kustomization.yaml"))).toBe(true);
    expect(app.spec.source.path).toBe("manifests/default");
    expect(app.spec.destination.namespace).toBe(operatorNamespace);
    expect(new URL(app.spec.source.repoURL).hostname).toBe("example.com");
  });

  it("prunes and self-heals with server-side apply, leaving the webhook's caBundle alone", () => {
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app.spec.syncPolicy.syncOptions).toEqual(
      expect.arrayContaining(["ServerSideApply=true", "RespectIgnoreDifferences=true"]),
    );
    expect(app.spec.ignoreDifferences).toEqual([
      expect.objectContaining({
        kind: "MutatingWebhookConfiguration",
        name: "meshid",
        jqPathExpressions: [".webhooks[]?.clientConfig.caBundle"],
      }),
    ]);
  });
});
