/**
 * The local control plane is a real Kubernetes API server: core objects round-trip through etcd,
 * CRDs become Established, and the garbage collector of kube-controller-manager follows
 * ownerReferences.
 */
import * as k8s from "@kubernetes/client-node";
import {
  createNamespace,
  eventually,
  kubectl,
  statusCode,
  testKubeConfig,
  uniqueName,
} from "./support/kube";

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);

describe("the local control plane", () => {
  it("stores a namespace and a Secret and reads them back", async () => {
    const ns = await createNamespace(kc, "cp");
    await core.createNamespacedSecret(ns, {
      metadata: { name: "greeting" },
      type: "Opaque",
      stringData: { hello: "world" },
    });
    const { body: readNs } = await core.readNamespace(ns);
    expect(readNs.status?.phase).toBe("Active");
    const { body: secret } = await core.readNamespacedSecret("greeting", ns);
    expect(Buffer.from(secret.data?.hello ?? "", "base64").toString()).toBe("world");
  });

  it("serves the pinned Kubernetes version", async () => {
    const out = JSON.parse(await kubectl(["version", "-o", "json"])) as {
      serverVersion: { gitVersion: string };
    };
    expect(out.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(out.serverVersion.gitVersion).toBe(process.env.KUBE_VERSION ?? "v1.36.3");
  });

  it("establishes a CRD with a status subresource", async () => {
    const group = `${uniqueName("g")}.example.com`;
    await ext.createCustomResourceDefinition({
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: { type: "object", properties: { size: { type: "integer" } } },
                  status: { type: "object", properties: { ready: { type: "boolean" } } },
                },
              },
            },
          },
        ],
      },
    });
    const established = await eventually(async () => {
      const { body } = await ext.readCustomResourceDefinition(`widgets.${group}`);
      const cond = body.status?.conditions?.find((c) => c.type === "Established");
      if (cond?.status !== "True") throw new Error("CRD not yet Established");
      return body;
    });
    expect(established.spec.versions[0]?.subresources?.status).toEqual({});

    const ns = await createNamespace(kc, "crd");
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await eventually(() =>
      custom.createNamespacedCustomObject(group, "v1", ns, "widgets", {
        apiVersion: `${group}/v1`,
        kind: "Widget",
        metadata: { name: "w1" },
        spec: { size: 3 },
        status: { ready: true },
      }),
    );
    // The status subresource means status on create is dropped; it is written through /status.
    const { body: created } = (await custom.getNamespacedCustomObject(
      group,
      "v1",
      ns,
      "widgets",
      "w1",
    )) as {
      body: { status?: unknown };
    };
    expect(created.status).toBeUndefined();
  });

  it("garbage-collects a dependent once its owner is deleted", async () => {
    const ns = await createNamespace(kc, "gc");
    const { body: owner } = await core.createNamespacedConfigMap(ns, {
      metadata: { name: "owner" },
    });
    await core.createNamespacedSecret(ns, {
      metadata: {
        name: "dependent",
        ownerReferences: [
          { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! },
        ],
      },
      stringData: { a: "b" },
    });
    await core.deleteNamespacedConfigMap("owner", ns);
    await eventually(
      async () => {
        try {
          await core.readNamespacedSecret("dependent", ns);
        } catch (err) {
          if (statusCode(err) === 404) return;
          throw err;
        }
        throw new Error("dependent Secret still exists");
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });
});
