/**
 * Pure builders of the objects meshid writes: issued Secrets, trust-bundle ConfigMaps and Events.
 * One place decides what each object looks like, so the write path only sends it.
 */
import type { CoreV1Event, V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import {
  annotations,
  labels,
  managedValue,
  trustBundleConfigMap,
  trustBundleKey,
  trustBundleLabel,
} from "../policy/naming";
import { formatTime } from "../../api/v1alpha1/conditions";

/**
 * Label and annotation keys Argo CD uses to track and prune what it manages. They are dropped
 * from issued Secrets even when a secretTemplate asks for them, so a sync never prunes a
 * certificate out from under a running pod.
 */
const argoTrackingKeys = [
  "app.kubernetes.io/instance",
  "argocd.argoproj.io/instance",
  "argocd.argoproj.io/tracking-id",
];

function withoutTracking(map: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (!argoTrackingKeys.includes(k) && !k.startsWith("argocd.argoproj.io/")) out[k] = v;
  }
  return out;
}

/** PodSecretInput is everything an issued Secret is built from. */
export interface PodSecretInput {
  pod: V1Pod;
  secretName: string;
  identityName: string;
  identityGeneration: number;
  certChainPem: string;
  keyPem: string;
  trustBundlePem: string;
  specHash: string;
  issuerFingerprint: string;
  serialHex: string;
  notAfter: Date;
  renewAt: Date;
  /** renewedFor is the renewal request this certificate answers. */
  renewedFor?: Date;
  podIp?: string;
  template?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** resourceVersion of the Secret being replaced, for an optimistic update. */
  resourceVersion?: string;
}

/** b64 encodes text as a Secret's data value. */
export const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

/** secretText decodes one key of a Secret's data, undefined when absent or empty. */
export function secretText(
  data: Record<string, string> | undefined,
  key: string,
): string | undefined {
  const v = data?.[key];
  return v ? Buffer.from(v, "base64").toString("utf8") : undefined;
}

/** buildPodSecret builds the kubernetes.io/tls Secret of one pod, owned by the pod. */
export function buildPodSecret(input: PodSecretInput): V1Secret {
  const { pod } = input;
  const podName = pod.metadata?.name ?? "";
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name: input.secretName,
      namespace: pod.metadata?.namespace,
      ...(input.resourceVersion ? { resourceVersion: input.resourceVersion } : {}),
      labels: {
        ...withoutTracking(input.template?.labels),
        [labels.managed]: managedValue,
        [labels.identity]: input.identityName,
        [labels.pod]:
          podName.length <= 63 ? podName : podName.slice(0, 63).replace(/[^a-z0-9]+$/, ""),
      },
      annotations: {
        ...withoutTracking(input.template?.annotations),
        [annotations.generation]: String(input.identityGeneration),
        [annotations.specHash]: input.specHash,
        [annotations.issuer]: input.issuerFingerprint,
        [annotations.serial]: input.serialHex,
        [annotations.notAfter]: formatTime(input.notAfter),
        // Milliseconds: a fleet issued in the same second must not share one renewal instant.
        [annotations.renewAt]: input.renewAt.toISOString(),
        [annotations.podUid]: pod.metadata?.uid ?? "",
        ...(input.podIp ? { [annotations.podIp]: input.podIp } : {}),
        ...(input.renewedFor ? { [annotations.renewedFor]: input.renewedFor.toISOString() } : {}),
      },
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "Pod",
          name: podName,
          uid: pod.metadata?.uid ?? "",
          controller: true,
          blockOwnerDeletion: false,
        },
      ],
    },
    data: {
      "tls.crt": b64(input.certChainPem),
      "tls.key": b64(input.keyPem),
      "ca.crt": b64(input.trustBundlePem),
    },
  };
}

/** buildCaSecret builds a CA Secret (bootstrap mode) from its `.data`. */
export function buildCaSecret(
  namespace: string,
  name: string,
  data: { "tls.crt": string; "tls.key": string; "ca.crt": string },
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/name": "meshid", "app.kubernetes.io/component": "ca" },
    },
    data: { ...data },
  };
}

/** buildTrustBundle builds the meshid-ca-bundle ConfigMap of a namespace. */
export function buildTrustBundle(
  namespace: string,
  bundlePem: string,
  resourceVersion?: string,
): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: trustBundleConfigMap,
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: {
        "app.kubernetes.io/name": "meshid",
        "app.kubernetes.io/component": "trust-bundle",
        [trustBundleLabel]: "true",
      },
    },
    data: { [trustBundleKey]: bundlePem },
  };
}

/** EventInput describes one Event; the message must never contain key material. */
export interface EventInput {
  involved: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  now: Date;
}

/** buildEvent builds a core/v1 Event reported by the meshid operator. */
export function buildEvent(input: EventInput): CoreV1Event {
  const t = formatTime(input.now);
  const { involved } = input;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      generateName: `${involved.name.slice(0, 200)}.`,
      namespace: involved.namespace,
    },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      namespace: involved.namespace,
      name: involved.name,
      ...(involved.uid ? { uid: involved.uid } : {}),
    },
    type: input.type,
    reason: input.reason,
    message: input.message.slice(0, 1024),
    source: { component: "meshid-operator" },
    reportingComponent: "meshid.dev/operator",
    reportingInstance: "meshid-operator",
    firstTimestamp: t as unknown as Date,
    lastTimestamp: t as unknown as Date,
    count: 1,
  };
}

/**
 * withoutManagedFields drops metadata.managedFields before an object is cached: the operator never
 * reads them, and they are often the larger part of an object.
 */
export function withoutManagedFields<T extends { metadata?: { managedFields?: unknown } }>(
  obj: T,
): T {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _drop, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** sharedBundles interns ca.crt values: every issued Secret carries the same few trust bundles. */
const sharedBundles = new Map<string, string>();
const maxSharedBundles = 16;

function intern(value: string): string {
  const known = sharedBundles.get(value);
  if (known !== undefined) return known;
  if (sharedBundles.size >= maxSharedBundles) sharedBundles.clear();
  sharedBundles.set(value, value);
  return value;
}

/**
 * slimSecret keeps an issued Secret's metadata, type and trust bundle (ca.crt, shared between
 * Secrets), and drops tls.crt and tls.key before it is cached: the operator judges a Secret by
 * the verdict it remembers for its uid and resourceVersion, and reads the whole Secret from the
 * API server only for a version it has no verdict for (see controllers/existing.ts). Caching the
 * keys and chains was most of the operator's memory at 10,000 pods.
 */
export function slimSecret(secret: V1Secret): V1Secret {
  const slim = withoutManagedFields(secret);
  const bundle = secret.data?.["ca.crt"];
  const { data: _drop, ...rest } = slim;
  const out = { ...rest, ...(bundle !== undefined ? { data: { "ca.crt": intern(bundle) } } : {}) };
  slimmed.add(out);
  return out;
}

const slimmed = new WeakSet<V1Secret>();

/**
 * isSlim tells a copy made by slimSecret from a whole Secret: only a whole one may be judged by
 * its data (a slim copy lacks tls.crt whatever the Secret holds).
 */
export function isSlim(secret: V1Secret): boolean {
  return slimmed.has(secret);
}

/**
 * slimPod keeps what the operator reads of a pod: metadata, service account, volumes, phase and
 * IP. A cold start with thousands of pods otherwise caches every container spec and status.
 */
export function slimPod(pod: V1Pod): V1Pod {
  const { metadata } = withoutManagedFields(pod);
  return {
    ...(metadata ? { metadata } : {}),
    spec: {
      containers: [],
      ...(pod.spec?.serviceAccountName ? { serviceAccountName: pod.spec.serviceAccountName } : {}),
      ...(pod.spec?.serviceAccount ? { serviceAccount: pod.spec.serviceAccount } : {}),
      ...(pod.spec?.volumes ? { volumes: pod.spec.volumes } : {}),
      // The pod certificate signer checks the requesting node is the pod's.
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    },
    status: {
      ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
      ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}),
    },
  };
}
