/**
 * meshid as a cluster runs it: the Deployment of manifests/default, from the image built by
 * hack/images/build.sh, with the generated RBAC, serving the webhook through its Service, and
 * handing leadership over when the leader's pod is deleted.
 */
import * as k8s from "@kubernetes/client-node";
import { createNamespace, eventually, kubectl, testKubeConfig } from "../support/kube";
import { createIdentity, createPod, managedSecrets } from "../support/meshid";
import { installMeshid, OPERATOR_NAMESPACE, rolloutStatus } from "./support";

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const selector = "app.kubernetes.io/name=meshid,app.kubernetes.io/component=operator";

async function operatorPods(): Promise<k8s.V1Pod[]> {
  const { body } = await core.listNamespacedPod(
    OPERATOR_NAMESPACE,
    undefined,
    undefined,
    undefined,
    undefined,
    selector,
  );
  return body.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function leaseHolder(): Promise<string> {
  const { body } = await coordination.readNamespacedLease("meshid-operator", OPERATOR_NAMESPACE);
  return body.spec?.holderIdentity ?? "";
}

/** issuesForNewPod creates a selected pod and waits for its Secret: the leader reconciles. */
async function issuesForNewPod(ns: string, name: string): Promise<void> {
  await createPod(ns, name, { app: "web" }, "web");
  await eventually(
    async () => {
      const secrets = await managedSecrets(ns);
      const { body: pod } = await core.readNamespacedPod(name, ns);
      const secret = pod.metadata?.annotations?.["meshid.dev/secret"];
      expect(secrets.map((s) => s.metadata?.name)).toContain(secret);
    },
    { timeoutMs: 30_000 },
  );
}

let ns = "";

beforeAll(async () => {
  await installMeshid();
  ns = await createNamespace(kc, "op", { "meshid.dev/injection": "enabled" });
  await kubectl(["-n", ns, "create", "serviceaccount", "web"]);
  await createIdentity(ns, "web", {
    selector: { matchLabels: { app: "web" } },
    serviceAccountName: "web",
  });
}, 120_000);

describe("the operator Deployment of manifests/default", () => {
  it("runs two ready replicas on the node from meshid-operator:latest, as user 65532 on a read-only root filesystem", async () => {
    const pods = await operatorPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBe("meshid-node");
      expect(pod.spec?.serviceAccountName).toBe("meshid-operator");
      expect(pod.status?.containerStatuses?.[0]?.ready).toBe(true);
      expect(pod.status?.containerStatuses?.[0]?.image).toMatch(/meshid-operator:latest$/);
    }
    const name = pods[0]!.metadata!.name!;
    const run = (code: string) =>
      kubectl(["-n", OPERATOR_NAMESPACE, "exec", name, "--", "node", "-e", code]);
    expect((await run("console.log(process.getuid(), process.getgid())")).trim()).toBe(
      "65532 65532",
    );
    const write = await run(
      "try { require('fs').writeFileSync('/app/x', 'y'); console.log('written') } catch (e) { console.log(e.code) }",
    );
    expect(write.trim()).toBe("EROFS");
  });

  it("works with the generated RBAC: one replica holds the Lease and the CA Secrets exist", async () => {
    const names = (await operatorPods()).map((p) => p.metadata!.name!);
    expect(names).toContain(await leaseHolder());
    for (const secret of ["meshid-root-ca", "meshid-ca"]) {
      const { body } = await core.readNamespacedSecret(secret, OPERATOR_NAMESPACE);
      expect(body.data?.["tls.crt"]).toBeTruthy();
    }
  });

  it("serves the admission webhook through the meshid-webhook Service", async () => {
    const hook = JSON.parse(
      await kubectl(["get", "mutatingwebhookconfiguration", "meshid", "-o", "json"]),
    ) as { webhooks: { clientConfig: { service?: { name: string }; url?: string } }[] };
    expect(hook.webhooks[0]!.clientConfig.service?.name).toBe("meshid-webhook");
    expect(hook.webhooks[0]!.clientConfig.url).toBeUndefined();
    const endpoints = await kubectl([
      "-n",
      OPERATOR_NAMESPACE,
      "get",
      "endpointslices",
      "-l",
      "kubernetes.io/service-name=meshid-webhook",
      "-o",
      "jsonpath={.items[*].endpoints[*].addresses[*]}",
    ]);
    const podIps = (await operatorPods()).map((p) => p.status!.podIP!);
    expect(endpoints.split(" ").sort()).toEqual(podIps.sort());
    const pod = await createPod(ns, "web-0", { app: "web" }, "web");
    expect(pod.spec?.volumes?.map((v) => v.name)).toContain("meshid-identity");
    await issuesForNewPod(ns, "web-1");
  });

  it("hands leadership to the other replica within the lease when the leader's pod is deleted", async () => {
    const leader = await leaseHolder();
    const deleted = Date.now();
    await core.deleteNamespacedPod(leader, OPERATOR_NAMESPACE);
    const next = await eventually(
      async () => {
        const holder = await leaseHolder();
        if (!holder || holder === leader) throw new Error(`the Lease is still held by ${holder}`);
        return holder;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const handover = Date.now() - deleted;
    // Lease duration 15 s (the operator's default), plus one retry period of the new leader.
    expect(handover).toBeLessThan(20_000);
    expect(next).not.toBe(leader);
    process.stderr.write(`leadership moved from ${leader} to ${next} in ${handover} ms\n`);
    await issuesForNewPod(ns, "web-2");
    // The Deployment replaces the deleted pod.
    await rolloutStatus(OPERATOR_NAMESPACE, "meshid-operator");
  }, 120_000);
});
