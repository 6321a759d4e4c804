/**
 * Starts one local control plane for the integration project and hands its kubeconfig to the
 * test workers through the environment (workers start after this and inherit it).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { LocalControlPlane } from "../../hack/controlplane/control-plane";
import { resolveTestbin } from "../../hack/controlplane/testbin";
import { testTmpDir } from "../support/kube";

declare global {
  var __meshidControlPlane: LocalControlPlane | undefined;
}

export default async function globalSetup(): Promise<void> {
  const binDir = resolveTestbin();
  const dir = mkdtempSync(join(testTmpDir(), "meshid-cp-"));
  const log = (m: string) => process.stderr.write(`[control plane] ${m}\n`);
  log(`starting in ${dir}`);
  const cp = await LocalControlPlane.start({ binDir, dir, log });
  globalThis.__meshidControlPlane = cp;
  process.env.KUBECONFIG = cp.kubeconfigPath;
  process.env.MESHID_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.env.MESHID_TESTBIN = binDir;
  process.env.MESHID_TEST_CP_DIR = dir;

  // Install the generated CRDs (manifests/crd) so every test can use meshid's own resources.
  const crds = join(__dirname, "..", "..", "manifests", "crd");
  const kubectl = (...args: string[]) =>
    execFileSync("kubectl", ["--kubeconfig", cp.kubeconfigPath, ...args], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  try {
    kubectl("apply", "--server-side", "-f", crds);
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  log("CRDs from manifests/crd established");
}
