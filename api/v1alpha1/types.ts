/**
 * TypeScript types of the MeshIdentity resource (group meshid.dev, version v1alpha1). They mirror
 * the OpenAPI schema in `schema.ts`, which is what the API server enforces; the enumerations are
 * defined here once and used by both.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { API_VERSION, KIND } from "./names";

/** KEY_ALGORITHMS lists the private key algorithms, the default first. */
export const KEY_ALGORITHMS = ["ECDSA", "Ed25519", "RSA"] as const;

/** KeyAlgorithm is the algorithm of an issued private key. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** KEY_SIZES lists the sizes allowed per algorithm, the default first; Ed25519 has no size. */
export const KEY_SIZES = {
  ECDSA: [256, 384],
  RSA: [2048, 3072, 4096],
} as const satisfies Partial<Record<KeyAlgorithm, readonly number[]>>;

/** ROTATION_POLICIES lists the key rotation policies, the default first. */
export const ROTATION_POLICIES = ["Always", "Never"] as const;

/** RotationPolicy says whether a renewal generates a new private key (Always) or reuses it (Never). */
export type RotationPolicy = (typeof ROTATION_POLICIES)[number];

/** DELIVERIES lists how a certificate reaches the pod, the default first. */
export const DELIVERIES = ["Secret", "PodCertificate"] as const;

/**
 * Delivery is how a pod receives its certificate: a Secret meshid writes (key made by meshid), or
 * a Kubernetes Pod Certificate (key made by kubelet on the node, signed by meshid).
 */
export type Delivery = (typeof DELIVERIES)[number];

/** KEY_USAGES lists the usages a certificate may carry, as cert-manager names them. */
export const KEY_USAGES = [
  "server auth",
  "client auth",
  "digital signature",
  "key encipherment",
] as const;

/** KeyUsage is one key usage or extended key usage of an issued certificate. */
export type KeyUsage = (typeof KEY_USAGES)[number];

/** LABEL_SELECTOR_OPERATORS lists the operators of a label selector requirement. */
export const LABEL_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/** LabelSelectorOperator is the operator of one label selector requirement. */
export type LabelSelectorOperator = (typeof LABEL_SELECTOR_OPERATORS)[number];

/** LabelSelectorRequirement is one `matchExpressions` entry of a LabelSelector. */
export interface LabelSelectorRequirement {
  /** key is the label key the requirement applies to. */
  key: string;
  /** operator relates the key to the values. */
  operator: LabelSelectorOperator;
  /** values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist. */
  values?: string[];
}

/** LabelSelector is a Kubernetes label selector (the same shape as metav1.LabelSelector). */
export interface LabelSelector {
  /** matchLabels requires each key to have exactly this value. */
  matchLabels?: Record<string, string>;
  /** matchExpressions are further requirements, all of which must hold. */
  matchExpressions?: LabelSelectorRequirement[];
}

/** PrivateKeySpec configures the private key of each issued certificate. */
export interface PrivateKeySpec {
  /** algorithm of the key; default ECDSA. */
  algorithm?: KeyAlgorithm;
  /** size in bits (ECDSA 256|384, default 256; RSA 2048|3072|4096, default 2048); never for Ed25519. */
  size?: number;
  /** rotationPolicy: Always (default) generates a new key at every renewal, Never reuses it. */
  rotationPolicy?: RotationPolicy;
}

/** SecretTemplate holds metadata copied onto every Secret issued for the MeshIdentity. */
export interface SecretTemplate {
  /** labels copied onto each issued Secret. */
  labels?: Record<string, string>;
  /** annotations copied onto each issued Secret. */
  annotations?: Record<string, string>;
}

/** MeshIdentitySpec is the desired identity of a workload's pods. */
export interface MeshIdentitySpec {
  /** selector picks the pods of this namespace that receive the identity (required). */
  selector: LabelSelector;
  /** serviceAccountName, when set, restricts the identity to pods running as this service account. */
  serviceAccountName?: string;
  /** dnsNames are DNS SAN templates; `$(POD_NAME)`, `$(POD_NAMESPACE)`, `$(SERVICE_ACCOUNT)` are rendered per pod. */
  dnsNames?: string[];
  /** includePodIP adds the pod's IP address as an IP SAN. */
  includePodIP?: boolean;
  /** duration is the certificate lifetime (default 24h, 10m..2160h). */
  duration?: string;
  /** renewBefore is how long before expiry to renew (default duration/3, must be < duration). */
  renewBefore?: string;
  /** privateKey configures the key of each certificate. */
  privateKey?: PrivateKeySpec;
  /** usages of each certificate (default server auth and client auth). */
  usages?: KeyUsage[];
  /** secretTemplate holds labels and annotations for each issued Secret. */
  secretTemplate?: SecretTemplate;
  /** delivery is how the certificate reaches the pod: Secret (default) or PodCertificate. */
  delivery?: Delivery;
}

/** ConditionStatus is the status of a condition. */
export type ConditionStatus = "True" | "False" | "Unknown";

/** Condition is one entry of `status.conditions`, shaped like metav1.Condition. */
export interface Condition {
  /** type of the condition; MeshIdentity uses `Ready` (see conditions.ts). */
  type: string;
  /** status of the condition. */
  status: ConditionStatus;
  /** reason is a CamelCase word naming why (see `Reason` in conditions.ts). */
  reason: string;
  /** message explains the reason to a human. */
  message: string;
  /** lastTransitionTime is when status last changed, RFC 3339. */
  lastTransitionTime: string;
  /** observedGeneration is the metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

/** MeshIdentityStatus is the observed state of a MeshIdentity, written by the operator. */
export interface MeshIdentityStatus {
  /** observedGeneration is the metadata.generation the status was computed from. */
  observedGeneration?: number;
  /** conditions, a list map keyed by type. */
  conditions?: Condition[];
  /** selectedPods is the number of pods the MeshIdentity selects (and owns, after conflicts). */
  selectedPods?: number;
  /** issuedPods is the number of selected pods holding a current certificate. */
  issuedPods?: number;
  /** nextRenewalTime is the earliest scheduled renewal among the selected pods, RFC 3339. */
  nextRenewalTime?: string;
}

/** MeshIdentity declares the X.509 identity of the pods of one workload. */
export interface MeshIdentity {
  /** apiVersion is always `meshid.dev/v1alpha1`. */
  apiVersion: typeof API_VERSION;
  /** kind is always `MeshIdentity`. */
  kind: typeof KIND;
  /** metadata is the standard object metadata. */
  metadata: V1ObjectMeta;
  /** spec is the desired identity. */
  spec: MeshIdentitySpec;
  /** status is the observed state; only the operator writes it, through /status. */
  status?: MeshIdentityStatus;
}

/** MeshIdentityList is the list the API returns for MeshIdentities. */
export interface MeshIdentityList {
  /** apiVersion is always `meshid.dev/v1alpha1`. */
  apiVersion: typeof API_VERSION;
  /** kind is always `MeshIdentityList`. */
  kind: "MeshIdentityList";
  /** metadata carries the list's resourceVersion and continue token. */
  metadata: { resourceVersion?: string; continue?: string };
  /** items are the MeshIdentities. */
  items: MeshIdentity[];
}
