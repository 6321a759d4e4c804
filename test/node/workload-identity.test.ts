/**
 * Identities used by running pods: a pod on the node mounts its identity, two replicas complete
 * mTLS with it and verify each other's SPIFFE ID, and a renewal reaches the running container
 * without a restart or a failed handshake. meshid runs in-cluster (manifests/default).
 */
import { createNamespace, eventually, kubectl, testKubeConfig } from "../support/kube";
import { createIdentity, managedSecrets } from "../support/meshid";
import {
  handshakes,
  installMeshid,
  loadedSerials,
  podLog,
  podNames,
  rolloutStatus,
  workloadManifest,
} from "./support";

const kc = testKubeConfig();
let ns = "";
let pods: string[] = [];
const app = "payments";
const fsGroup = 2000;
const spiffeId = () => `spiffe://cluster.local/ns/${ns}/sa/${app}`;

/** secretSerial returns the serial meshid recorded on a pod's Secret. */
async function secretSerial(pod: string): Promise<string> {
  const secrets = await managedSecrets(ns);
  const name = await kubectl([
    "-n",
    ns,
    "get",
    "pod",
    pod,
    "-o",
    "jsonpath={.metadata.annotations.meshid\\.dev/secret}",
  ]);
  const s = secrets.find((x) => x.metadata?.name === name);
  const serial = s?.metadata?.annotations?.["meshid.dev/serial"];
  if (!serial) throw new Error(`no issued Secret ${name} for pod ${pod} yet`);
  return serial;
}

beforeAll(async () => {
  await installMeshid();
  ns = await createNamespace(kc, "wl", { "meshid.dev/injection": "enabled" });
  await kubectl(["-n", ns, "create", "serviceaccount", app]);
  // Short-lived certificates: each renews about a minute after it was issued.
  await createIdentity(ns, app, {
    selector: { matchLabels: { app } },
    serviceAccountName: app,
    dnsNames: [`${app}.${ns}.svc`],
    duration: "10m",
    renewBefore: "9m",
  });
  await kubectl(
    ["apply", "-f", "-"],
    workloadManifest({ namespace: ns, name: app, serviceAccount: app, replicas: 2, fsGroup }),
  );
  await rolloutStatus(ns, app);
  pods = await podNames(ns, app);
}, 120_000);

describe("a workload pod on the node", () => {
  it("mounts its identity: tls.crt, tls.key and ca.crt, mode 0440, owned by root and the pod's fsGroup", async () => {
    expect(pods).toHaveLength(2);
    const listing = await kubectl([
      "-n",
      ns,
      "exec",
      pods[0]!,
      "--",
      "/workload",
      "-ls",
      "/var/run/secrets/meshid.dev",
    ]);
    const files = listing
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/));
    expect(files.map((f) => f[4]).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    for (const [mode, uid, gid] of files) {
      expect([mode, uid, gid]).toEqual(["-r--r-----", "0", String(fsGroup)]);
    }
  });

  it("loads the certificate its Secret holds", async () => {
    for (const pod of pods) {
      const serial = await secretSerial(pod);
      await eventually(async () => expect(loadedSerials(await podLog(ns, pod))).toContain(serial), {
        timeoutMs: 30_000,
      });
    }
  });

  it("completes mTLS with the other replica, each side verifying the other's SPIFFE ID", async () => {
    const [a, b] = pods as [string, string];
    const serials = { [a]: await secretSerial(a), [b]: await secretSerial(b) };
    // Through the Service a replica may reach itself or the other: wait until each has shaken
    // hands with the other's current certificate, as client and as server.
    await eventually(
      async () => {
        for (const [self, other] of [
          [a, b],
          [b, a],
        ] as const) {
          const hs = handshakes(await podLog(ns, self)).filter((h) => h.result === "ok");
          for (const side of ["client", "server"]) {
            expect(hs).toContainEqual(
              expect.objectContaining({ side, peer: spiffeId(), peerSerial: serials[other] }),
            );
          }
        }
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  });

  it("sees a renewal from inside the running container and keeps handshaking with the new certificate", async () => {
    const restarts = async () =>
      kubectl([
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        `app=${app}`,
        "-o",
        "jsonpath={.items[*].status.containerStatuses[0].restartCount}",
      ]);
    for (const pod of pods) {
      const first = loadedSerials(await podLog(ns, pod))[0];
      expect(first).toBeDefined();
      await eventually(
        async () => {
          const current = await secretSerial(pod);
          expect(current).not.toBe(first);
          const log = await podLog(ns, pod);
          expect(loadedSerials(log)).toContain(current);
          expect(handshakes(log)).toContainEqual(
            expect.objectContaining({ ownSerial: current, result: "ok" }),
          );
        },
        { timeoutMs: 150_000, intervalMs: 2_000 },
      );
      const failed = handshakes(await podLog(ns, pod)).filter((h) => h.result !== "ok");
      expect(failed).toEqual([]);
    }
    expect(await restarts()).toBe("0 0");
  }, 320_000);
});

describe("the workload's peer check", () => {
  it("refuses a peer whose SPIFFE ID is not the one it expects", async () => {
    // A second replica set of the same identity that expects another service account: its
    // handshakes with the payments pods must fail on its side.
    const probe = "probe";
    await createIdentity(ns, probe, {
      selector: { matchLabels: { app: probe } },
      serviceAccountName: app,
    });
    const manifest = JSON.parse(
      workloadManifest({
        namespace: ns,
        name: probe,
        serviceAccount: app,
        replicas: 1,
        // The identity's files are 0440 root:fsGroup: a non-root workload reads them through it.
        fsGroup,
      }),
    ) as { items: unknown[] };
    // Only the Deployment: the probe dials the payments Service, and expects someone else.
    const deployment = manifest.items[1] as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    deployment.spec.template.spec.containers[0]!.args = [
      "-peer=$(PAYMENTS_SERVICE_HOST):$(PAYMENTS_SERVICE_PORT)",
      "-listen=",
      "-interval=1s",
      `-peer-id=spiffe://cluster.local/ns/${ns}/sa/someone-else`,
    ];
    await kubectl(["apply", "-f", "-"], JSON.stringify(deployment));
    await rolloutStatus(ns, probe);
    const [pod] = await podNames(ns, probe);
    await eventually(
      async () => {
        const hs = handshakes(await podLog(ns, pod!));
        expect(hs).toContainEqual(
          expect.objectContaining({ side: "client", peer: spiffeId(), result: "fail" }),
        );
        expect(hs.filter((h) => h.result === "ok")).toEqual([]);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  }, 120_000);
});
