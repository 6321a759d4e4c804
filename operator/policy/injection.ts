/**
 * What the admission webhook does to a pod: whether to inject (a MeshIdentity of the namespace
 * selects it), which Secret name to record, and the JSON patch that adds the read-only volume,
 * the mounts and the annotation. Pure: the random suffix for generated names is an input.
 */
import type { V1Pod } from "@kubernetes/client-node";
import {
  annotations,
  generatedSecretName,
  isReservedSecretName,
  mountPath,
  podSecretName,
  signerName,
  trustBundleConfigMap,
  trustBundleKey,
} from "./naming";
import { selectIdentity, type IdentityCandidate } from "./selection";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { resolveSpec } from "../../api/v1alpha1/defaults";
import { PCR_BACKDATE_MS, podCertificateKeyType } from "./pod-certificate";

/** volumeName is the name of the injected volume. */
export const volumeName = "meshid-identity";

/** JsonPatchOp is one RFC 6902 operation. */
export interface JsonPatchOp {
  op: "add" | "replace";
  path: string;
  value: unknown;
}

/**
 * injectionSecretName is the Secret a pod will mount: `meshid-<pod>` for a named pod (the same
 * name the operator derives for pods it finds without injection), or `meshid.<generateName><token>`
 * when the API server has not named the pod yet at admission (Deployments, ReplicaSets). The two
 * forms cannot collide, so naming a pod after a generated Secret claims nothing.
 */
export function injectionSecretName(pod: V1Pod, token: string): string | undefined {
  const name = pod.metadata?.name;
  if (name) return podSecretName(name);
  return generatedSecretName(pod.metadata?.generateName ?? "pod-", token);
}

/** withoutTrailingSlashes trims a path in linear time (a regex here was quadratic on "////x"). */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}

/**
 * reservedReference names the first Secret meshid gives out to pods among `names` (the Secrets a
 * pod's volumes of any type and its containers' environments refer to).
 */
export function reservedReference(names: readonly string[]): string | undefined {
  return names.find(isReservedSecretName);
}

/**
 * debugRefusal says why an ephemeral container (kubectl debug) may not be added to a running pod:
 * it mounts meshid's identity volume, or reads an identity Secret into its environment.
 */
export function debugRefusal(pod: V1Pod): string | undefined {
  const mounting = (pod.spec?.ephemeralContainers ?? []).find((c) =>
    (c.volumeMounts ?? []).some((m) => m.name === volumeName),
  );
  if (mounting)
    return `ephemeral container "${mounting.name}" mounts volume "${volumeName}", which holds the pod's identity; debug containers may not`;
  return environmentRefusal(pod);
}

/**
 * environmentRefusal says why a container (ephemeral ones included) may not start: it reads a
 * Secret meshid gives out to pods through its environment (env secretKeyRef or envFrom secretRef).
 */
function environmentRefusal(pod: V1Pod): string | undefined {
  for (const kind of ["initContainers", "containers", "ephemeralContainers"] as const) {
    for (const c of pod.spec?.[kind] ?? []) {
      const names = [
        ...(c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
        ...(c.envFrom ?? []).map((e) => e.secretRef?.name),
      ].filter((n): n is string => typeof n === "string");
      const reserved = names.find(isReservedSecretName);
      if (reserved !== undefined)
        return `container "${c.name}" reads Secret "${reserved}" into its environment; Secrets named meshid-* and meshid.* hold pod identities and only meshid mounts them`;
    }
  }
  return undefined;
}

/**
 * refusalReason says why a pod must not be admitted in an injection-enabled namespace, or
 * undefined. meshid alone binds a pod to its identity Secret: a pod that brings meshid's volume,
 * its annotation, or any volume of a Secret name meshid gives out could point itself at another
 * pod's identity, so it is refused whether or not a MeshIdentity selects it.
 */
export function refusalReason(pod: V1Pod): string | undefined {
  for (const v of pod.spec?.volumes ?? []) {
    if (v.name === volumeName)
      return `the pod declares volume "${volumeName}", which meshid reserves for the identity it injects; remove it (meshid adds it)`;
    const names = [
      v.secret?.secretName,
      ...(v.projected?.sources ?? []).map((s) => s.secret?.name),
    ].filter((n): n is string => typeof n === "string");
    const reserved = names.find(isReservedSecretName);
    if (reserved !== undefined)
      return `volume "${v.name}" mounts Secret "${reserved}"; Secrets named meshid-* and meshid.* hold pod identities and only meshid mounts them`;
  }
  if (pod.metadata?.annotations?.[annotations.secret] !== undefined)
    return `the pod sets annotation ${annotations.secret}, which meshid sets; remove it`;
  const env = environmentRefusal(pod);
  if (env !== undefined) return env;
  for (const kind of ["initContainers", "containers"] as const) {
    const c = (pod.spec?.[kind] ?? []).find((c) =>
      (c.volumeMounts ?? []).some((m) => withoutTrailingSlashes(m.mountPath) === mountPath),
    );
    if (c)
      return `container "${c.name}" already mounts something at ${mountPath}, where meshid mounts the pod's identity; use another path`;
  }
  return undefined;
}

/** shouldInject picks the MeshIdentity that selects the pod, if any (same rule as issuance). */
export function shouldInject<T extends IdentityCandidate>(
  pod: V1Pod,
  namespace: string,
  identities: readonly T[],
): T | undefined {
  const withNs: V1Pod = { ...pod, metadata: { ...pod.metadata, namespace } };
  return selectIdentity(withNs, identities).winner;
}

const escape = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** IdentityVolume is the volume the webhook injects: a Secret, or a projected pod certificate. */
export type IdentityVolume =
  { secretName: string } | { podCertificate: { keyType: string; maxExpirationSeconds?: number } };

/**
 * podCertificateVolume is a projected volume of a Kubernetes Pod Certificate from meshid's
 * signer (kubelet writes key and chain as tls.key and tls.crt, the names of the Secret path) and
 * the namespace's trust bundle as ca.crt, so workloads read the same three files either way.
 */
function podCertificateVolume(keyType: string, maxExpirationSeconds: number | undefined) {
  return {
    name: volumeName,
    projected: {
      defaultMode: 0o440,
      sources: [
        {
          podCertificate: {
            signerName,
            keyType,
            ...(maxExpirationSeconds !== undefined ? { maxExpirationSeconds } : {}),
            keyPath: "tls.key",
            certificateChainPath: "tls.crt",
          },
        },
        {
          configMap: {
            name: trustBundleConfigMap,
            items: [{ key: trustBundleKey, path: "ca.crt" }],
          },
        },
      ],
    },
  };
}

/**
 * injectionPatch adds the identity volume, a read-only mount in every container, and, for a
 * Secret, the annotation naming it.
 */
export function injectionPatch(pod: V1Pod, identity: IdentityVolume): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const volume =
    "secretName" in identity
      ? { name: volumeName, secret: { secretName: identity.secretName, defaultMode: 0o440 } }
      : podCertificateVolume(
          identity.podCertificate.keyType,
          identity.podCertificate.maxExpirationSeconds,
        );
  if (pod.spec?.volumes === undefined)
    ops.push({ op: "add", path: "/spec/volumes", value: [volume] });
  else ops.push({ op: "add", path: "/spec/volumes/-", value: volume });
  const mount = { name: volumeName, mountPath, readOnly: true };
  for (const kind of ["initContainers", "containers"] as const) {
    (pod.spec?.[kind] ?? []).forEach((c, i) => {
      if (c.volumeMounts === undefined)
        ops.push({ op: "add", path: `/spec/${kind}/${i}/volumeMounts`, value: [mount] });
      else ops.push({ op: "add", path: `/spec/${kind}/${i}/volumeMounts/-`, value: mount });
    });
  }
  if (!("secretName" in identity)) return ops;
  if (pod.metadata?.annotations === undefined) {
    ops.push({
      op: "add",
      path: "/metadata/annotations",
      value: { [annotations.secret]: identity.secretName },
    });
  } else {
    ops.push({
      op: "add",
      path: `/metadata/annotations/${escape(annotations.secret)}`,
      value: identity.secretName,
    });
  }
  return ops;
}

/** maxPodCertificateSeconds is the longest maxExpirationSeconds the API accepts (91 days). */
const maxPodCertificateSeconds = 7_862_400;

/**
 * podCertificateInjection is the pod certificate to project for a MeshIdentity that asks for
 * PodCertificate delivery (undefined for Secret delivery), or why the pod cannot be given one.
 * maxExpirationSeconds lets the certificate live the spec's whole duration (with the backdated
 * notBefore); without a duration the request's default of 24h applies.
 */
export function podCertificateInjection(
  identity: MeshIdentity,
):
  | { podCertificate: { keyType: string; maxExpirationSeconds?: number } }
  | { refusal: string }
  | undefined {
  if (identity.spec.delivery !== "PodCertificate") return undefined;
  const name = identity.metadata.name ?? "";
  let spec;
  try {
    spec = resolveSpec(identity.spec);
  } catch (err) {
    return {
      refusal: `MeshIdentity ${name} is invalid: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const keyType = podCertificateKeyType(spec.privateKey);
  if (keyType === undefined)
    return {
      refusal: `MeshIdentity ${name} asks for PodCertificate delivery with ${spec.privateKey.algorithm} keys kubelet does not make; use ECDSA, Ed25519, or RSA 3072 or 4096`,
    };
  const seconds =
    identity.spec.duration !== undefined
      ? Math.min(
          Math.ceil((spec.durationMs + PCR_BACKDATE_MS) / 1000) + 60,
          maxPodCertificateSeconds,
        )
      : undefined;
  return {
    podCertificate: {
      keyType,
      ...(seconds !== undefined ? { maxExpirationSeconds: seconds } : {}),
    },
  };
}

/**
 * deliversPodCertificate tells whether a pod gets its certificate from kubelet (PodCertificate
 * delivery) rather than a Secret. A pod admitted before its MeshIdentity switched to
 * PodCertificate still mounts meshid's Secret volume: it keeps the Secret path until restarted.
 */
export function deliversPodCertificate(delivery: string, pod: V1Pod): boolean {
  if (delivery !== "PodCertificate") return false;
  return !(pod.spec?.volumes ?? []).some((v) => v.name === volumeName && v.secret !== undefined);
}
