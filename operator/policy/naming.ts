/**
 * Names, labels, annotation keys and the field manager: defined once, used everywhere.
 */
import { fnv1a64 } from "./hash";

/** domain prefixes every label and annotation meshid owns. */
const domain = "meshid.dev";

/** fieldManager identifies meshid's writes in managedFields. */
export const fieldManager = "meshid-operator";

/** Labels meshid sets on the objects it manages. */
export const labels = {
  /** managed marks Secrets meshid issued; the operator watches only these. */
  managed: `${domain}/managed`,
  /** identity is the MeshIdentity a Secret was issued for. */
  identity: `${domain}/identity`,
  /** pod is the name of the pod a Secret belongs to. */
  pod: `${domain}/pod`,
  /** injection on a namespace enables the admission webhook there. */
  injection: `${domain}/injection`,
} as const;

/** Annotations meshid sets; together they record what a Secret was built from. */
export const annotations = {
  /** secret on a pod names the Secret its volume mounts (set by the webhook). */
  secret: `${domain}/secret`,
  generation: `${domain}/identity-generation`,
  specHash: `${domain}/spec-hash`,
  issuer: `${domain}/issuer-fingerprint`,
  serial: `${domain}/serial`,
  notAfter: `${domain}/not-after`,
  renewAt: `${domain}/renew-at`,
  podUid: `${domain}/pod-uid`,
  podIp: `${domain}/pod-ip`,
  renewRequestedAt: "meshid.dev/renew-requested-at",
} as const;

/** managedValue is the value of the managed label. */
export const managedValue = "true";

/** trustBundleConfigMap is the ConfigMap holding the trust bundle in each namespace. */
export const trustBundleConfigMap = "meshid-ca-bundle";

/** trustBundleKey is the ConfigMap key of the trust bundle. */
export const trustBundleKey = "ca.crt";

/** mountPath is where the webhook mounts the identity Secret in every container. */
export const mountPath = "/var/run/secrets/meshid.dev";

const maxNameLength = 253;

/**
 * podSecretName is the deterministic Secret name for a pod that the webhook did not inject
 * (created before injection was enabled): `meshid-<pod>`, shortened with a hash when too long.
 */
export function podSecretName(podName: string): string {
  const name = `meshid-${podName}`;
  if (name.length <= maxNameLength) return name;
  const hash = fnv1a64(podName).slice(0, 10);
  return `${name.slice(0, maxNameLength - 11)}-${hash}`;
}

/** objectKey is the queue key of a namespaced object. */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** splitKey is the inverse of objectKey. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
