/**
 * An operator whose admission webhook the real API server calls: a MutatingWebhookConfiguration
 * (url clientConfig, as there is no service network) limited to the given namespaces, with the
 * caBundle the operator fills in. Also a raw HTTPS client for sending the webhook anything.
 */
import * as k8s from "@kubernetes/client-node";
import * as https from "node:https";
import { eventually, testKubeConfig, uniqueName } from "./kube";
import { startOperator, waitReady, type OperatorProcess } from "./operator";

const admissionApi = testKubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);

/** WebhookOperator is a running operator and its webhook configuration. */
export interface WebhookOperator {
  op: OperatorProcess;
  configName: string;
  /** stop deletes the configuration and stops the operator. */
  stop(): Promise<void>;
}

/**
 * startWebhookOperator starts an operator and registers its webhook for pod CREATE in
 * `namespaces` that carry meshid.dev/injection=enabled; resolves once the API server can call it.
 */
export async function startWebhookOperator(
  namespaces: string[],
  args: string[] = [],
): Promise<WebhookOperator> {
  const configName = uniqueName("meshid-webhook-test");
  const op = await startOperator({ args: [`--webhook-config-name=${configName}`, ...args] });
  await waitReady(op);
  await admissionApi.createMutatingWebhookConfiguration({
    metadata: { name: configName },
    webhooks: [
      {
        name: "pods.meshid.dev",
        clientConfig: { url: `https://127.0.0.1:${op.webhookPort}/mutate-pods` },
        rules: [
          { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["UPDATE"],
            resources: ["pods/ephemeralcontainers"],
          },
        ],
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "In", values: namespaces },
            { key: "meshid.dev/injection", operator: "In", values: ["enabled"] },
          ],
        },
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        failurePolicy: "Fail",
        reinvocationPolicy: "Never",
        timeoutSeconds: 5,
      },
    ],
  });
  // The operator fills in the caBundle; until then the API server cannot call the webhook.
  await eventually(
    async () => {
      const { body } = await admissionApi.readMutatingWebhookConfiguration(configName);
      if (!body.webhooks?.[0]?.clientConfig.caBundle) throw new Error("no caBundle yet");
    },
    { timeoutMs: 90_000 },
  );
  return {
    op,
    configName,
    stop: async () => {
      await admissionApi.deleteMutatingWebhookConfiguration(configName).catch(() => undefined);
      await op.stop();
    },
  };
}

/** RawResponse is what the webhook answered: status and body text, or the transport error. */
export interface RawResponse {
  status: number;
  body: string;
  error?: string;
}

/** postRaw sends `body` to the webhook port as it is, over TLS (the serving CA is not checked). */
export function postRaw(
  port: number,
  body: string | Buffer,
  opts: { agent?: https.Agent; path?: string; method?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: opts.path ?? "/mutate-pods",
        method: opts.method ?? "POST",
        rejectUnauthorized: false,
        agent: opts.agent,
        timeout: opts.timeoutMs ?? 15_000,
        headers: { "Content-Type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (err) => resolve({ status: 0, body: "", error: err.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => resolve({ status: 0, body: "", error: err.message }));
    req.end(body);
  });
}
