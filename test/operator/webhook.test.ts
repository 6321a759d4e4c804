/**
 * The admission webhook on the real API server: the operator serves it over HTTPS with a
 * certificate from its own CA, keeps the configuration's caBundle current, and the API server
 * returns injected pods with the volume, mounts and annotation.
 */
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import type { OperatorProcess } from "../support/operator";
import { postRaw, startWebhookOperator, type WebhookOperator } from "../support/webhook";
import { core, createIdentity, createPod } from "../support/meshid";

jest.setTimeout(120_000);

const kc = testKubeConfig();
let hook: WebhookOperator;
let op: OperatorProcess;
let injected: string;
let plain: string;

beforeAll(async () => {
  injected = await createNamespace(kc, "inject", { "meshid.dev/injection": "enabled" });
  plain = await createNamespace(kc, "plain");
  hook = await startWebhookOperator([injected, plain]);
  op = hook.op;
  for (const ns of [injected, plain])
    await createIdentity(ns, "web", { selector: { matchLabels: { app: "web" } } });
});

afterAll(async () => {
  await hook?.stop();
});

describe("the admission webhook", () => {
  it("injects a selected pod in a labelled namespace, and its Secret appears under the recorded name", async () => {
    const pod = await eventually(() => createPod(injected, "web-0", { app: "web" }), {
      timeoutMs: 30_000,
    });
    const secretName = pod.metadata?.annotations?.["meshid.dev/secret"];
    expect(secretName).toBe("meshid-web-0");
    const volume = pod.spec?.volumes?.find((v) => v.name === "meshid-identity");
    expect(volume?.secret?.secretName).toBe(secretName);
    expect(pod.spec?.containers[0]?.volumeMounts).toContainEqual({
      name: "meshid-identity",
      mountPath: "/var/run/secrets/meshid.dev",
      readOnly: true,
    });
    await eventually(() => core.readNamespacedSecret(secretName!, injected), { timeoutMs: 60_000 });
  });

  it("gives a pod created with generateName a generated Secret name", async () => {
    const { body } = await core.createNamespacedPod(injected, {
      metadata: { generateName: "web-", labels: { app: "web" } },
      spec: { containers: [{ name: "c", image: "meshid-test-app" }] },
    });
    const secretName = body.metadata?.annotations?.["meshid.dev/secret"];
    expect(secretName).toMatch(/^meshid\.web-[a-z0-9]{10}$/);
    await eventually(() => core.readNamespacedSecret(secretName!, injected), { timeoutMs: 60_000 });
  });

  it("leaves an unselected pod unchanged", async () => {
    const pod = await createPod(injected, "db-0", { app: "db" });
    expect(pod.metadata?.annotations?.["meshid.dev/secret"]).toBeUndefined();
    expect(pod.spec?.volumes?.some((v) => v.name === "meshid-identity") ?? false).toBe(false);
  });

  it("leaves a selected pod of a namespace without the label unchanged", async () => {
    const pod = await createPod(plain, "web-0", { app: "web" });
    expect(pod.metadata?.annotations?.["meshid.dev/secret"]).toBeUndefined();
    expect(pod.spec?.volumes?.some((v) => v.name === "meshid-identity") ?? false).toBe(false);
  });

  it("honours server-side dry-run", async () => {
    const { body } = await core.createNamespacedPod(
      injected,
      {
        metadata: { name: "web-dry", labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "meshid-test-app" }] },
      },
      undefined,
      "All",
    );
    expect(body.metadata?.annotations?.["meshid.dev/secret"]).toBe("meshid-web-dry");
    await expect(core.readNamespacedPod("web-dry", injected)).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("answers a malformed AdmissionReview with 400 and keeps serving", async () => {
    const post = async (body: string) => (await postRaw(op.webhookPort, body)).status;
    expect(await post("{not json")).toBe(400);
    expect(await post(JSON.stringify({ kind: "AdmissionReview" }))).toBe(400);
    expect(await op.readyz()).toBe(200);
  });
});
