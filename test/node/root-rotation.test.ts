/**
 * A root rotation under running pods: two replicas of the workload do mTLS with each other through
 * their Service while the root is rotated (`kubectl patch meshca`, meshid in-cluster with its
 * default soak, so the kubelet's refresh of each mounted ca.crt is what the rotation waits for).
 * The pods' own handshake logs must show no failure, each pod must end on a certificate under the
 * new root, and no container restarts.
 */
import { X509Certificate } from "node:crypto";
import type { MeshCAStatus } from "../../api/v1alpha1/meshca";
import { createNamespace, eventually, kubectl, testKubeConfig, uniqueName } from "../support/kube";
import { createIdentity, managedSecrets, secretText, splitPem } from "../support/meshid";
import {
  handshakes,
  installMeshid,
  loadedSerials,
  OPERATOR_NAMESPACE,
  podLog,
  podNames,
  rolloutStatus,
  workloadManifest,
} from "./support";

const kc = testKubeConfig();
let ns = "";
let pods: string[] = [];
const app = "ledger";

const fingerprint = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();

async function rootPem(): Promise<string> {
  const b64 = await kubectl([
    "-n",
    OPERATOR_NAMESPACE,
    "get",
    "secret",
    "meshid-root-ca",
    "-o",
    "jsonpath={.data.tls\\.crt}",
  ]);
  return Buffer.from(b64, "base64").toString("utf8");
}

async function meshCaStatus(): Promise<MeshCAStatus | undefined> {
  const out = await kubectl(["get", "meshca", "meshid", "-o", "json"]);
  return (JSON.parse(out) as { status?: MeshCAStatus }).status;
}

beforeAll(async () => {
  await installMeshid();
  ns = await createNamespace(kc, "rot", { "meshid.dev/injection": "enabled" });
  await kubectl(["-n", ns, "create", "serviceaccount", app]);
  await createIdentity(ns, app, {
    selector: { matchLabels: { app } },
    serviceAccountName: app,
    dnsNames: [`${app}.${ns}.svc`],
  });
  await kubectl(
    ["apply", "-f", "-"],
    workloadManifest({ namespace: ns, name: app, serviceAccount: app, replicas: 2, fsGroup: 2000 }),
  );
  await rolloutStatus(ns, app);
  pods = await podNames(ns, app);
}, 120_000);

describe("a root rotation under running pods", () => {
  it("fails no handshake in the pods' own logs, and every pod ends under the new root", async () => {
    expect(pods).toHaveLength(2);
    // Handshakes run before the rotation starts.
    await eventually(
      async () => {
        for (const pod of pods)
          expect(handshakes(await podLog(ns, pod)).filter((h) => h.result === "ok")).not.toEqual(
            [],
          );
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const oldRoot = fingerprint(await rootPem());
    const token = uniqueName("node");
    // The operator creates the MeshCA once it leads; a fresh install may not have it yet.
    await eventually(
      () =>
        kubectl([
          "patch",
          "meshca",
          "meshid",
          "--type=merge",
          "-p",
          JSON.stringify({ spec: { rootRotation: token } }),
        ]),
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    const phases: string[] = [];
    await eventually(
      async () => {
        const rotation = (await meshCaStatus())?.rotation;
        if (rotation && phases[phases.length - 1] !== rotation.phase) phases.push(rotation.phase);
        expect(rotation).toMatchObject({ id: token, phase: "Retired" });
      },
      { timeoutMs: 480_000, intervalMs: 2_000 },
    );
    const newRoot = fingerprint(await rootPem());
    expect(newRoot).not.toBe(oldRoot);

    // Each pod loads the certificate its Secret now holds (under the new root, with a ca.crt of
    // the new root alone) and shakes hands with it.
    for (const pod of pods) {
      await eventually(
        async () => {
          const name = await kubectl([
            "-n",
            ns,
            "get",
            "pod",
            pod,
            "-o",
            "jsonpath={.metadata.annotations.meshid\\.dev/secret}",
          ]);
          const secret = (await managedSecrets(ns)).find((s) => s.metadata?.name === name);
          const serial = secret?.metadata?.annotations?.["meshid.dev/serial"];
          expect(serial).toBeDefined();
          expect(splitPem(secretText(secret!, "ca.crt")).map(fingerprint)).toEqual([newRoot]);
          const log = await podLog(ns, pod);
          expect(loadedSerials(log)).toContain(serial);
          expect(handshakes(log)).toContainEqual(
            expect.objectContaining({ ownSerial: serial, result: "ok" }),
          );
        },
        { timeoutMs: 180_000, intervalMs: 2_000 },
      );
    }
    const failed: string[] = [];
    let ok = 0;
    for (const pod of pods) {
      const hs = handshakes(await podLog(ns, pod));
      ok += hs.filter((h) => h.result === "ok").length;
      failed.push(
        ...hs.filter((h) => h.result !== "ok").map((h) => `${pod}: ${JSON.stringify(h)}`),
      );
    }
    console.log(
      `phases sampled: ${phases.join(" → ")}; ${ok} handshakes ok, ${failed.length} failed`,
    );
    if (failed.length > 0)
      for (const pod of pods)
        console.log(
          `${pod}:\n${(await podLog(ns, pod)).filter((l) => /fail|loaded/.test(l)).join("\n")}`,
        );
    expect(failed).toEqual([]);
    const restarts = await kubectl([
      "-n",
      ns,
      "get",
      "pods",
      "-l",
      `app=${app}`,
      "-o",
      "jsonpath={.items[*].status.containerStatuses[0].restartCount}",
    ]);
    expect(restarts).toBe("0 0");
  }, 780_000);
});
