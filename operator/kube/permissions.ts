/**
 * The one list of API calls the operator makes. manifests/rbac is generated from it
 * (`make manifests`), and KubeClient refuses a request this list does not declare, so the code
 * cannot drift from its RBAC role without a test failing.
 */

/** Permission is one RBAC rule: an API group, resources and verbs. */
export interface Permission {
  apiGroup: string;
  resources: string[];
  verbs: string[];
  /** resourceNames, when set, limits the rule to these objects. */
  resourceNames?: string[];
  /**
   * scope "operator-namespace" grants the rule through a Role in the operator's own namespace
   * instead of the ClusterRole.
   */
  scope?: "operator-namespace";
  /** why is a human-readable reason, rendered as a comment in the generated role. */
  why: string;
}

/** permissions is every call meshid makes (cluster-wide unless `scope` says otherwise). */
export const permissions: readonly Permission[] = [
  {
    apiGroup: "",
    resources: ["pods"],
    verbs: ["get", "list", "watch"],
    // get: a pod certificate request for a pod the cache has not seen yet is checked live.
    why: "find the pods MeshIdentities select; check the pod of a PodCertificateRequest",
  },
  {
    apiGroup: "",
    resources: ["secrets"],
    verbs: ["get", "list", "watch", "create", "update", "delete"],
    why: "issue, rotate and clean up certificate Secrets; read, bootstrap and renew the CA Secrets",
  },
  {
    apiGroup: "",
    resources: ["configmaps"],
    verbs: ["create"],
    // RBAC cannot limit create by name; every other ConfigMap verb is limited to the bundle.
    why: "publish the trust bundle (create cannot be limited by name)",
  },
  {
    apiGroup: "",
    resources: ["configmaps"],
    verbs: ["get", "list", "watch", "update"],
    resourceNames: ["meshid-ca-bundle"],
    why: "watch the trust bundles and restore one that was deleted or edited (only meshid-ca-bundle)",
  },
  {
    apiGroup: "",
    resources: ["events"],
    verbs: ["create"],
    why: "record issuance, failures and CA problems",
  },
  {
    apiGroup: "meshid.dev",
    resources: ["meshidentities"],
    verbs: ["list", "watch"],
    why: "read MeshIdentities",
  },
  {
    apiGroup: "meshid.dev",
    resources: ["meshidentities/status"],
    verbs: ["patch"],
    why: "report status",
  },
  {
    apiGroup: "meshid.dev",
    resources: ["meshcas"],
    verbs: ["get", "list", "watch"],
    resourceNames: ["meshid"],
    // list and watch select it by name (metadata.name=meshid), so the grant holds to that name.
    why: "read and watch the one MeshCA object (meshid): its root rotation request and state",
  },
  {
    apiGroup: "meshid.dev",
    resources: ["meshcas"],
    verbs: ["create"],
    // RBAC never matches a create against resourceNames (the name is not in the request path).
    why: "create the one MeshCA object (meshid) that shows the CA (create cannot be limited by name)",
  },
  {
    apiGroup: "meshid.dev",
    resources: ["meshcas/status"],
    verbs: ["patch"],
    resourceNames: ["meshid"],
    why: "report the CA's intermediates, roots, phase and leaf inventory",
  },
  {
    apiGroup: "coordination.k8s.io",
    resources: ["leases"],
    verbs: ["get", "create", "update"],
    scope: "operator-namespace",
    why: "leader election (a Role in the operator's namespace only)",
  },
  {
    apiGroup: "admissionregistration.k8s.io",
    resources: ["mutatingwebhookconfigurations"],
    verbs: ["get", "patch"],
    // Only meshid's own configuration: a stolen token must not redirect other admission webhooks.
    resourceNames: ["meshid"],
    why: "keep the caBundle of the webhook configuration meshid current (--webhook-config-name)",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["podcertificaterequests"],
    verbs: ["list", "watch"],
    why: "read the PodCertificateRequests addressed to meshid's signer (Pod Certificates)",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["podcertificaterequests/status"],
    verbs: ["update"],
    why: "issue, deny or fail PodCertificateRequests addressed to meshid's signer",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["signers"],
    verbs: ["sign"],
    // The API server checks this before it accepts a signer's status; only meshid's own name.
    resourceNames: ["meshid.dev/identity"],
    why: "sign pod certificates as signer meshid.dev/identity",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["clustertrustbundles"],
    verbs: ["create"],
    // RBAC cannot limit create by name; get and update are limited to meshid's bundle.
    why: "publish the trust bundle as a ClusterTrustBundle of signer meshid.dev/identity",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["clustertrustbundles"],
    verbs: ["get", "update"],
    resourceNames: ["meshid.dev:identity:primary-bundle"],
    why: "keep meshid's ClusterTrustBundle current (only meshid.dev:identity:primary-bundle)",
  },
  {
    apiGroup: "certificates.k8s.io",
    resources: ["signers"],
    verbs: ["attest"],
    // The API server checks this before it stores a bundle linked to a signer.
    resourceNames: ["meshid.dev/identity"],
    why: "link that ClusterTrustBundle to signer meshid.dev/identity",
  },
];

/** isDeclared tells whether a call (verb, group, resource) is in the list. */
export function isDeclared(verb: string, apiGroup: string, resource: string): boolean {
  return permissions.some(
    (p) => p.apiGroup === apiGroup && p.resources.includes(resource) && p.verbs.includes(verb),
  );
}

const methodVerbs: Record<string, string> = {
  GET: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * callOf derives the RBAC verb, group and resource of a request path, e.g.
 * PUT /api/v1/namespaces/x/secrets/y → update "" secrets;
 * PATCH /apis/meshid.dev/v1alpha1/namespaces/x/meshidentities/y/status → patch meshid.dev meshidentities/status.
 */
export function callOf(
  method: string,
  path: string,
): { verb: string; apiGroup: string; resource: string } {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  let i: number;
  let apiGroup: string;
  if (parts[0] === "api") {
    apiGroup = "";
    i = 2;
  } else {
    apiGroup = parts[1] ?? "";
    i = 3;
  }
  if (parts[i] === "namespaces" && parts.length > i + 2) i += 2;
  const resource = parts[i] ?? "";
  const name = parts[i + 1];
  const sub = parts[i + 2];
  let verb = methodVerbs[method] ?? method.toLowerCase();
  if (method === "GET" && name === undefined) verb = "list";
  return { verb, apiGroup, resource: sub ? `${resource}/${sub}` : resource };
}
