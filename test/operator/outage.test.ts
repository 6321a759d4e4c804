/**
 * An API-server outage: this file runs its own control plane, so it can stop and restart
 * kube-apiserver under a running operator without disturbing other tests.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { LocalControlPlane } from "../../hack/controlplane/control-plane";
import { eventually, testTmpDir } from "../support/kube";
import { startOperator, waitReady } from "../support/operator";

jest.setTimeout(240_000);

const repoRoot = join(__dirname, "..", "..");
let cp: LocalControlPlane;
let core: k8s.CoreV1Api;

beforeAll(async () => {
  const dir = mkdtempSync(join(testTmpDir(), "meshid-outage-"));
  cp = await LocalControlPlane.start({ binDir: process.env.MESHID_TESTBIN!, dir });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  await new Promise<void>((resolve, reject) => {
    const kubectl = spawn("kubectl", [
      "--kubeconfig",
      cp.kubeconfigPath,
      "apply",
      "--server-side",
      "-f",
      join(repoRoot, "manifests", "crd"),
    ]);
    kubectl.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${code}`)),
    );
  });
});

afterAll(async () => {
  await cp?.stop();
  if (cp) rmSync(cp.dir, { recursive: true, force: true });
});

describe("an API-server restart under a running operator", () => {
  it("leaves the operator process running, and it issues for a pod created afterwards", async () => {
    await core.createNamespace({ metadata: { name: "meshid-system" } });
    await core.createNamespace({ metadata: { name: "shop" } });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await eventually(() =>
      custom.createNamespacedCustomObject("meshid.dev", "v1alpha1", "shop", "meshidentities", {
        apiVersion: "meshid.dev/v1alpha1",
        kind: "MeshIdentity",
        metadata: { name: "web" },
        spec: { selector: { matchLabels: { app: "web" } } },
      }),
    );

    const op = await startOperator({ kubeconfig: cp.kubeconfigPath, args: ["--webhook-port=0"] });
    try {
      await waitReady(op);
      const pod = (name: string) => ({
        metadata: { name, labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "meshid-test-app" }] },
      });
      await core.createNamespacedPod("shop", pod("before"));
      await eventually(() => core.readNamespacedSecret("meshid-before", "shop"), {
        timeoutMs: 30_000,
      });

      await cp.stopApiServer();
      await new Promise((r) => setTimeout(r, 15_000)); // longer than the lease's renew deadline
      expect(op.child.exitCode).toBeNull();
      await cp.startApiServer();

      await core.createNamespacedPod("shop", pod("after"));
      await eventually(() => core.readNamespacedSecret("meshid-after", "shop"), {
        timeoutMs: 90_000,
        intervalMs: 500,
      });
      expect(op.child.exitCode).toBeNull();
      expect(op.child.signalCode).toBeNull();
      expect(op.logs().some((l) => l.message === "Watch failed; relisting")).toBe(true);
    } finally {
      await op.stop("SIGKILL");
    }
  });
});
