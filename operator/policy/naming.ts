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
  /**
   * secret on a pod names the Secret its volume mounts, for people reading the pod. The webhook
   * sets it; the operator never reads it (a pod's author can change annotations at any time), and
   * the webhook refuses pods that bring it themselves.
   */
  secret: `${domain}/secret`,
  /**
   * renewRequestedAt (RFC 3339) on a pod or MeshIdentity asks for a re-issue of certificates
   * issued before that time (`kubectl meshid renew`).
   */
  renewRequestedAt: `${domain}/renew-requested-at`,
  /** renewedFor on an issued Secret records the renewal request its certificate answered. */
  renewedFor: `${domain}/renewed-for`,
  generation: `${domain}/identity-generation`,
  specHash: `${domain}/spec-hash`,
  issuer: `${domain}/issuer-fingerprint`,
  serial: `${domain}/serial`,
  notAfter: `${domain}/not-after`,
  renewAt: `${domain}/renew-at`,
  podUid: `${domain}/pod-uid`,
  podIp: `${domain}/pod-ip`,
} as const;

/** managedValue is the value of the managed label. */
export const managedValue = "true";

/** trustBundleLabel marks the trust-bundle ConfigMaps, which the operator watches and restores. */
export const trustBundleLabel = `${domain}/trust-bundle`;

/** trustBundleConfigMap is the ConfigMap holding the trust bundle in each namespace. */
export const trustBundleConfigMap = "meshid-ca-bundle";

/** trustBundleKey is the ConfigMap key of the trust bundle. */
export const trustBundleKey = "ca.crt";

/** signerName is the PodCertificateRequest signer meshid implements (Kubernetes Pod Certificates). */
export const signerName = `${domain}/identity`;

/** mountPath is where the webhook mounts the identity Secret in every container. */
export const mountPath = "/var/run/secrets/meshid.dev";

const maxNameLength = 253;

/**
 * namedPrefix starts the Secret name of a pod whose name is known (`meshid-<pod>`); generatedPrefix
 * starts the Secret name the webhook picks for a pod the API server names later. A pod name never
 * starts with a dot, so no pod name can make `meshid-<pod>` equal a `meshid.<...>` name: a pod
 * cannot be named so as to claim the Secret of a generated pod.
 */
const namedPrefix = "meshid-";
const generatedPrefix = "meshid.";

/** generatedTokenLength is the length of the random part of a generated Secret name. */
export const generatedTokenLength = 10;

/**
 * shorten keeps a generated name within 253 characters, replacing the tail by a hash of the whole
 * (which holds the random token, so nobody can aim at the result).
 */
function shorten(name: string): string {
  if (name.length <= maxNameLength) return name;
  const hash = fnv1a64(name).slice(0, 10);
  return `${name.slice(0, maxNameLength - 11).replace(/[-.]+$/, "")}-${hash}`;
}

/**
 * maxPodNameLength is the longest pod name that can hold a meshid identity: `meshid-<pod>` must fit
 * a Secret name (253) unshortened. A shortened name is itself a legal `meshid-<pod>` name, so a pod
 * could be named to claim a long-named pod's Secret: such names are refused instead.
 */
export const maxPodNameLength = maxNameLength - namedPrefix.length;

/**
 * podSecretName is the Secret name of a pod whose name is known: `meshid-<pod>`, or undefined for
 * a pod name longer than maxPodNameLength. Pods the webhook did not inject use it too.
 */
export function podSecretName(podName: string): string | undefined {
  return podName.length <= maxPodNameLength ? `${namedPrefix}${podName}` : undefined;
}

/**
 * generatedSecretName is the Secret name the webhook picks for a pod created with generateName:
 * `meshid.<generateName><token>`, where the token is random (10 characters: 10,000 pods of one
 * ReplicaSet collide with odds of about 1 in 4 million).
 */
export function generatedSecretName(generateName: string, token: string): string {
  return shorten(`${generatedPrefix}${generateName}${token}`);
}

/** isReservedSecretName tells whether a Secret name is one meshid gives out to pods. */
export function isReservedSecretName(name: string): boolean {
  return name.startsWith(namedPrefix) || name.startsWith(generatedPrefix);
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

/** nextCaSecretName is the Secret holding the next intermediate of a root rotation. */
export function nextCaSecretName(caSecret: string): string {
  return `${caSecret}-next`;
}

/** nextRootCaSecretName is the Secret holding the next root of a rotation (bootstrap mode). */
export function nextRootCaSecretName(rootCaSecret: string): string {
  return `${rootCaSecret}-next`;
}

/** retiredRootCaSecretName is the backup of a retired root, named after its fingerprint. */
export function retiredRootCaSecretName(rootCaSecret: string, fingerprint: string): string {
  return `${rootCaSecret}-retired-${fingerprint.slice(0, 16)}`;
}
