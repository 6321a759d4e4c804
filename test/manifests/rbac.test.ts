/**
 * manifests/rbac against an API server that authorizes with RBAC: the real operator, holding
 * nothing but a token of the meshid-operator ServiceAccount, issues a certificate without a single
 * forbidden call, and the ServiceAccount can do exactly what operator/kube/permissions.ts declares.
 */
import * as k8s from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { permissions, type Permission } from "../../operator/kube/permissions";
import { annotations } from "../../operator/policy/naming";
import {
  buildClusterRole,
  healthScriptPath,
  operatorName,
  operatorNamespace,
  repoRoot,
} from "../../hack/gen-manifests";
import {
  createNamespace,
  eventually,
  kubectl,
  serviceAccountKubeconfig,
  testKubeConfig,
  testKubeconfigPath,
  uniqueName,
} from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPod,
  getIdentity,
  opensslVerify,
  readyCondition,
  secretText,
} from "../support/meshid";
import { runHealthCheck } from "../../hack/argocd-lua/runner";

jest.setTimeout(60_000);

const kc = testKubeConfig();
const dir = mkdtempSync(join(tmpdir(), "meshid-rbac-"));
const running: OperatorProcess[] = [];
const cleanup: string[][] = [];

afterAll(async () => {
  await Promise.all(running.map((op) => op.stop()));
  for (const args of cleanup) await kubectl(["delete", "--ignore-not-found", ...args]);
  rmSync(dir, { recursive: true, force: true });
});

/** tokenKubeconfig writes a kubeconfig holding only a token of the ServiceAccount. */
const tokenKubeconfig = (namespace: string, serviceAccount: string) =>
  serviceAccountKubeconfig(namespace, serviceAccount, dir);

/**
 * canI asks the API server (kubectl auth can-i, a SubjectAccessReview) whether the operator's
 * ServiceAccount may do something, and returns kubectl's answer ("yes", or "no" and a reason).
 */
function canI(verb: string, resource: string, namespace: string): Promise<string> {
  const subject = `system:serviceaccount:${operatorNamespace}:${operatorName}`;
  const args = ["--kubeconfig", testKubeconfigPath(), "auth", "can-i", verb, resource];
  args.push(`--as=${subject}`, ...(namespace ? ["-n", namespace] : []));
  // can-i exits 1 for "no": the answer is on stdout either way.
  return new Promise((resolve) =>
    execFile("kubectl", args, { timeout: 30_000 }, (_err, stdout, stderr) =>
      resolve((stdout || stderr).trim()),
    ),
  );
}

/** grantsOf expands rules into "verb group/resource" strings. */
function grantsOf(rules: { verbs: string[]; apiGroups?: string[]; resources?: string[] }[]) {
  return new Set(
    rules.flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) =>
        (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${v} ${g || "core"}/${res}`)),
      ),
    ),
  );
}

/** rulesOf asks the API server what the holder of a kubeconfig may do in a namespace. */
async function rulesOf(kubeconfig: string, namespace: string): Promise<Set<string>> {
  const user = new k8s.KubeConfig();
  user.loadFromFile(kubeconfig);
  const { body } = await user
    .makeApiClient(k8s.AuthorizationV1Api)
    .createSelfSubjectRulesReview({ spec: { namespace } });
  expect(body.status?.incomplete).toBe(false);
  return grantsOf(body.status?.resourceRules ?? []);
}

const declared = (list: readonly Permission[]) =>
  grantsOf(list.map((p) => ({ verbs: p.verbs, apiGroups: [p.apiGroup], resources: p.resources })));

const logText = (op: OperatorProcess) => readFileSync(op.logFile, "utf8");

describe("the operator under manifests/rbac", () => {
  let kubeconfig: string;
  let ns: string;

  beforeAll(async () => {
    await kubectl(["apply", "-f", join(repoRoot, "manifests", "manager", "namespace.yaml")]);
    await kubectl(["apply", "-k", join(repoRoot, "manifests", "rbac")]);
    kubeconfig = await tokenKubeconfig(operatorNamespace, operatorName);
    ns = await createNamespace(kc, "rbac");
  });

  it("stores the ClusterRole with exactly the rules permissions.ts declares", async () => {
    const live = JSON.parse(await kubectl(["get", "clusterrole", operatorName, "-o", "json"])) as {
      rules: unknown[];
    };
    expect(live.rules).toEqual(buildClusterRole().rules);
  });

  it("lets the ServiceAccount do what permissions.ts declares and nothing more", async () => {
    // Whatever any authenticated identity may do (discovery, self reviews, reading
    // ClusterTrustBundles) is not meshid's, declared or not.
    await eventually(() => core.readNamespacedServiceAccount("default", ns));
    const baseline = await rulesOf(await tokenKubeconfig(ns, "default"), ns);
    const beyond = (grants: Set<string>) => [...grants].filter((g) => !baseline.has(g)).sort();
    const granted = await rulesOf(kubeconfig, ns);
    expect(beyond(granted)).toEqual(beyond(declared(permissions.filter((p) => !p.scope))));
    // In its own namespace it also holds the Role's grants (leader election), and no more.
    const home = await rulesOf(kubeconfig, operatorNamespace);
    expect(beyond(home)).toEqual(beyond(declared(permissions)));
  });

  it.each([
    ["create leases in kube-system", "create", "leases", "kube-system"],
    [
      "update a Lease of another namespace",
      "update",
      "leases/kube-controller-manager",
      "kube-system",
    ],
    ["update any ConfigMap but the trust bundle", "update", "configmaps/coredns", "kube-system"],
    ["read any ConfigMap but the trust bundle", "get", "configmaps/kubeadm-config", "kube-system"],
    ["delete ConfigMaps", "delete", "configmaps/meshid-ca-bundle", "default"],
    ["create, patch or delete pods", "patch", "pods", "default"],
    ["delete pods", "delete", "pods", "default"],
    ["create pods", "create", "pods", "default"],
    ["exec into pods", "create", "pods/exec", "default"],
    ["patch Secrets (only update with a resourceVersion)", "patch", "secrets", "default"],
    ["delete whole collections of Secrets", "deletecollection", "secrets", "default"],
    ["change MeshIdentity specs", "update", "meshidentities.meshid.dev", "default"],
    ["patch other admission webhooks", "patch", "mutatingwebhookconfigurations/other", ""],
    ["create admission webhooks", "create", "mutatingwebhookconfigurations", ""],
    ["grant itself more (RBAC)", "create", "clusterrolebindings", ""],
    ["mint ServiceAccount tokens", "create", "serviceaccounts/token", "default"],
    [
      "approve or sign CertificateSigningRequests",
      "update",
      "certificatesigningrequests/approval",
      "",
    ],
    ["read nodes", "get", "nodes", ""],
  ])("can NOT %s", async (_n, verb, resource, namespace) => {
    expect(await canI(verb, resource, namespace)).toMatch(/^no\b/);
  });

  it.each([
    ["create Leases in its own namespace", "create", "leases", operatorNamespace],
    [
      "update the trust bundle of any namespace",
      "update",
      "configmaps/meshid-ca-bundle",
      "default",
    ],
    ["create Secrets (identity Secrets live in every namespace)", "create", "secrets", "default"],
  ])("can %s (the control for the refusals above)", async (_n, verb, resource, namespace) => {
    expect(await canI(verb, resource, namespace)).toBe("yes");
  });

  it("issues a certificate for a selected pod with only the ServiceAccount's token", async () => {
    const op = await startOperator({
      namespace: operatorNamespace,
      args: [`--kubeconfig=${kubeconfig}`, "--lease-name=rbac-test"],
      // No admin credentials to fall back on: the token kubeconfig is the only one it sees.
      env: { KUBECONFIG: kubeconfig },
    });
    running.push(op);
    await waitReady(op, 40_000);

    await createIdentity(ns, "payments", { selector: { matchLabels: { app: "payments" } } });
    await createPod(ns, "pay-0", { app: "payments" });
    const secret = await eventually(() => core.readNamespacedSecret("meshid-pay-0", ns), {
      timeoutMs: 30_000,
    });
    opensslVerify(secret.body);

    // Issued by this operator's CA (not by another test's operator).
    const ca = await core.readNamespacedSecret("meshid-ca", operatorNamespace);
    const fingerprint = new X509Certificate(secretText(ca.body, "tls.crt")).fingerprint256
      .replace(/:/g, "")
      .toLowerCase();
    expect(secret.body.metadata?.annotations?.[annotations.issuer]).toBe(fingerprint);

    // Every kind of write went through: status, trust bundle, Events, the Lease.
    const identity = await eventually(
      async () => {
        const mi = await getIdentity(ns, "payments");
        if (readyCondition(mi)?.status !== "True") throw new Error("not Ready yet");
        return mi;
      },
      { timeoutMs: 20_000 },
    );
    // The live object, as Argo CD would judge it with the MeshIdentity health.lua.
    expect(runHealthCheck(identity, join(repoRoot, healthScriptPath)).status).toBe("Healthy");
    await eventually(() => core.readNamespacedConfigMap("meshid-ca-bundle", ns));
    const events = await eventually(async () => {
      const { body } = await core.listNamespacedEvent(ns);
      const ours = body.items.filter((e) => e.source?.component === "meshid-operator");
      if (ours.length === 0) throw new Error("no Event from meshid-operator yet");
      return ours;
    });
    expect(events.length).toBeGreaterThan(0);
    const lease = await kc
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease("rbac-test", operatorNamespace);
    expect(lease.body.spec?.holderIdentity).toBe(op.identity);

    expect(logText(op)).not.toMatch(/forbidden|PermissionNotDeclared/i);
    await op.stop();
  });
});

describe("an operator whose role lacks one declared permission", () => {
  it("is refused by the API server and says so in its log", async () => {
    // The control for the test above: proves the operator's calls are authorized by the token's
    // role (not by some other credential) and that a missing rule does show up as "forbidden".
    const ns = await createNamespace(kc, "rbac-reduced");
    const name = uniqueName("meshid-reduced");
    const reduced = permissions.map((p) =>
      p.resources.includes("secrets") ? { ...p, verbs: p.verbs.filter((v) => v !== "create") } : p,
    );
    const role = { ...buildClusterRole(reduced), metadata: { name } };
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: operatorName, namespace: ns }],
    };
    const sa = {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: operatorName, namespace: ns },
    };
    cleanup.push(["clusterrolebinding", name], ["clusterrole", name]);
    await kubectl(
      ["apply", "-f", "-"],
      [role, binding, sa].map((o) => JSON.stringify(o)).join("\n"),
    );

    const kubeconfig = await tokenKubeconfig(ns, operatorName);
    const op = await startOperator({
      namespace: ns,
      args: [`--kubeconfig=${kubeconfig}`, "--lease-name=rbac-reduced"],
      env: { KUBECONFIG: kubeconfig },
    });
    running.push(op);
    // Bootstrapping the CA creates Secrets: the first call the reduced role refuses.
    await eventually(
      () => {
        if (!/forbidden/i.test(logText(op))) throw new Error("no forbidden call logged yet");
      },
      { timeoutMs: 30_000 },
    );
    expect(logText(op)).toContain(
      `User \\"system:serviceaccount:${ns}:${operatorName}\\" cannot create resource \\"secrets\\"`,
    );
    expect(await op.readyz()).not.toBe(200);
  });
});
