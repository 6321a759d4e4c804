/**
 * manifests/default, the whole installation: the API server accepts it (server-side dry run)
 * under the restricted Pod Security Standard, its pieces refer to each other correctly, the
 * operator accepts the Deployment's flags, and re-applying it never undoes the caBundle the
 * operator writes into the webhook configuration.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type {
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1Service,
} from "@kubernetes/client-node";
import { parseConfig } from "../../operator/config";
import { operatorName, operatorNamespace, repoRoot } from "../../hack/gen-manifests";
import { kubectl, testKubeconfigPath, uniqueName } from "../support/kube";

jest.setTimeout(60_000);

const manifests = (...p: string[]) => join(repoRoot, "manifests", ...p);

/** run runs kubectl against the test cluster and resolves with its exit code and both outputs. */
function run(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", testKubeconfigPath(), ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

let objects: Obj[];
const one = <T>(kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0] as T;
};

beforeAll(async () => {
  const rendered = await kubectl(["kustomize", manifests("default")]);
  objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
});

// Global setup installed the CRD with server-side apply, so a client-side apply adds its
// last-applied annotation and says so; that is the only warning expected.
const warnings = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l !== "" && !l.includes("missing the kubectl.kubernetes.io/last-applied"));

describe("kubectl apply -k manifests/default", () => {
  beforeAll(async () => {
    // A server-side dry run cannot create objects inside a namespace it only pretends to create.
    await kubectl(["apply", "-f", manifests("manager", "namespace.yaml")]);
  });

  it.each([
    ["client-side apply", []],
    ["server-side apply, as Argo CD syncs", ["--server-side", "--field-manager=argocd-controller"]],
  ])("is accepted with %s (server-side dry run) without a warning", async (_, flags) => {
    const r = await run(["apply", "-k", manifests("default"), "--dry-run=server", ...flags]);
    expect(warnings(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    const applied = r.stdout.trim().split("\n");
    expect(applied).toHaveLength(objects.length);
    for (const line of applied)
      expect(line).toMatch(
        / (created|configured|unchanged|serverside-applied) \(server dry run\)$/,
      );
  });

  it("gives a pod of the Deployment that the restricted Pod Security Standard admits", async () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: uniqueName("meshid-operator"), namespace: operatorNamespace },
      spec: deployment.spec!.template.spec,
    };
    const r = await run(["create", "--dry-run=server", "-f", "-"], JSON.stringify(pod));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("the rendered installation", () => {
  it("puts every namespaced object into the operator's namespace, which is never injected", () => {
    const ns = one<Obj>("Namespace");
    expect(ns.metadata.name).toBe(operatorNamespace);
    expect(ns.metadata.labels?.["meshid.dev/injection"]).toBeUndefined();
    expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const clusterScoped = [
      "Namespace",
      "CustomResourceDefinition",
      "ClusterRole",
      "ClusterRoleBinding",
      "MutatingWebhookConfiguration",
    ];
    for (const o of objects.filter((x) => !clusterScoped.includes(x.kind)))
      expect([o.kind, o.metadata.namespace]).toEqual([o.kind, operatorNamespace]);
  });

  it("runs the Deployment as the ServiceAccount the ClusterRoleBinding grants", () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const sa = deployment.spec!.template.spec!.serviceAccountName;
    expect(one<Obj>("ServiceAccount", sa).metadata.namespace).toBe(operatorNamespace);
    expect(one<{ subjects: unknown[] }>("ClusterRoleBinding", operatorName).subjects).toEqual([
      { kind: "ServiceAccount", name: sa, namespace: operatorNamespace },
    ]);
  });

  it("selects the operator's pods from the Deployment, both Services and the PDB", () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const podLabels = deployment.spec!.template.metadata!.labels!;
    const selectors = [
      deployment.spec!.selector.matchLabels!,
      one<V1PodDisruptionBudget>("PodDisruptionBudget").spec!.selector!.matchLabels!,
      ...objects.filter((o) => o.kind === "Service").map((s) => (s as V1Service).spec!.selector!),
    ];
    for (const selector of selectors) expect(podLabels).toMatchObject(selector);
  });

  it("routes the webhook, metrics and probes to the ports the operator's flags open", () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const container = deployment.spec!.template.spec!.containers[0]!;
    const env = { POD_NAME: "meshid-operator-0", POD_NAMESPACE: operatorNamespace };
    const parsed = parseConfig(container.args ?? [], env);
    if (parsed.help) throw new Error("the Deployment's args ask for --help");
    const config = parsed.config as typeof parsed.config & { webhookPort?: number };
    const port = (name: string) => container.ports!.find((p) => p.name === name)!.containerPort;
    expect(config.namespace).toBe(operatorNamespace);
    expect(config.identity).toBe(env.POD_NAME);
    expect(port("health")).toBe(config.healthPort);
    expect(port("metrics")).toBe(config.metricsPort);
    expect(port("webhook")).toBe(config.webhookPort);
    expect(container.livenessProbe!.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(container.readinessProbe!.httpGet).toEqual({ path: "/readyz", port: "health" });

    const webhook = one<V1MutatingWebhookConfiguration>("MutatingWebhookConfiguration", "meshid");
    const ref = webhook.webhooks![0]!.clientConfig.service!;
    const service = one<V1Service>("Service", ref.name);
    expect(service.metadata!.namespace).toBe(ref.namespace);
    expect(service.spec!.ports).toEqual([
      expect.objectContaining({ port: ref.port, targetPort: "webhook" }),
    ]);
    expect(one<V1Service>("Service", "meshid-metrics").spec!.ports).toEqual([
      expect.objectContaining({ port: 8080, targetPort: "metrics" }),
    ]);
  });

  it("admits only the webhook from anywhere and metrics from labelled namespaces (NetworkPolicy)", () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const podLabels = deployment.spec!.template.metadata!.labels!;
    const container = deployment.spec!.template.spec!.containers[0]!;
    const policy = one<V1NetworkPolicy>("NetworkPolicy", operatorName).spec!;
    expect(podLabels).toMatchObject(policy.podSelector.matchLabels!);
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    const rules = (policy.ingress ?? []).map((r) => ({
      ports: (r.ports ?? []).map((p) => p.port),
      from: r.from,
    }));
    expect(rules).toEqual([
      { ports: ["webhook"], from: undefined },
      {
        ports: ["metrics"],
        from: [{ namespaceSelector: { matchLabels: { "meshid.dev/metrics-scraper": "true" } } }],
      },
    ]);
    // Every port the policy names is one the operator's container opens.
    const named = new Set(container.ports!.map((p) => p.name));
    for (const r of rules) for (const p of r.ports) expect(named.has(String(p))).toBe(true);
  });

  it("runs two hardened replicas from the image placeholder, with a PDB keeping one", () => {
    const deployment = one<V1Deployment>("Deployment", operatorName);
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(deployment.spec!.replicas).toBe(2);
    expect(one<V1PodDisruptionBudget>("PodDisruptionBudget").spec!.minAvailable).toBe(1);
    expect(container.image).toBe("meshid-operator:latest");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources?.requests).toEqual({ cpu: "100m", memory: "128Mi" });
    expect(container.resources?.limits).toEqual({ cpu: "500m", memory: "384Mi" });
  });

  it("sends the webhook only pod CREATEs and ephemeral-container UPDATEs from labelled namespaces, failing closed", () => {
    const [webhook, ...others] = one<V1MutatingWebhookConfiguration>(
      "MutatingWebhookConfiguration",
      "meshid",
    ).webhooks!;
    expect(others).toEqual([]);
    expect(webhook).toMatchObject({
      name: "pods.meshid.dev",
      clientConfig: { service: { name: "meshid-webhook", path: "/mutate-pods", port: 443 } },
      rules: [
        { operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] },
        {
          operations: ["UPDATE"],
          apiGroups: [""],
          apiVersions: ["v1"],
          resources: ["pods/ephemeralcontainers"],
        },
      ],
      namespaceSelector: {
        matchLabels: { "meshid.dev/injection": "enabled" },
        matchExpressions: [
          {
            key: "kubernetes.io/metadata.name",
            operator: "NotIn",
            values: [operatorNamespace, "kube-system"],
          },
        ],
      },
      sideEffects: "None",
      admissionReviewVersions: ["v1"],
      timeoutSeconds: 5,
      failurePolicy: "Fail",
      reinvocationPolicy: "Never",
      matchPolicy: "Equivalent",
    });
    expect(webhook!.clientConfig).not.toHaveProperty("caBundle");
  });
});

describe("re-applying the webhook configuration", () => {
  it("keeps the caBundle the operator wrote, with client-side and with server-side apply", async () => {
    // A renamed copy that selects no namespace, so no other test's pods are affected.
    const original = one<V1MutatingWebhookConfiguration>("MutatingWebhookConfiguration", "meshid");
    const name = uniqueName("meshid-cabundle");
    const copy = {
      ...original,
      metadata: { ...original.metadata, name },
      webhooks: original.webhooks!.map((w) => ({
        ...w,
        namespaceSelector: { matchLabels: { "meshid.dev/injection": name } },
      })),
    };
    const yaml = JSON.stringify(copy);
    const caBundle = Buffer.from("operator-written CA").toString("base64");
    const current = async () =>
      (
        await kubectl([
          "get",
          "mutatingwebhookconfiguration",
          name,
          "-o",
          "jsonpath={.webhooks[0].clientConfig.caBundle}",
        ])
      ).trim();
    try {
      await kubectl(["apply", "-f", "-"], yaml);
      await kubectl([
        "patch",
        "mutatingwebhookconfiguration",
        name,
        "--type=json",
        `-p=[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"${caBundle}"}]`,
      ]);
      await kubectl(["apply", "-f", "-"], yaml);
      expect(await current()).toBe(caBundle);
      // As Argo CD syncs with ServerSideApply=true.
      await kubectl(
        [
          "apply",
          "--server-side",
          "--field-manager=argocd-controller",
          "--force-conflicts",
          "-f",
          "-",
        ],
        yaml,
      );
      expect(await current()).toBe(caBundle);
    } finally {
      await kubectl(["delete", "mutatingwebhookconfiguration", name, "--ignore-not-found"]);
    }
  });
});
