/**
 * The Argo CD pieces against the real API server: the argocd-cm patch that installs the
 * MeshIdentity health check, and the Application example. The health check itself runs under
 * gopher-lua in hack/argocd-lua/runner.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  healthCheckKey,
  healthScriptPath,
  operatorNamespace,
  repoRoot,
} from "../../hack/gen-manifests";
import { createNamespace, kubectl, testKubeConfig } from "../support/kube";

jest.setTimeout(30_000);

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
      [healthCheckKey]: readFileSync(join(repoRoot, healthScriptPath), "utf8"),
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
