/**
 * What the admission webhook does to a pod: whether to inject (a MeshIdentity of the namespace
 * selects it), which Secret name to record, and the JSON patch that adds the read-only volume,
 * the mounts and the annotation. Pure: the random suffix for generated names is an input.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { annotations, mountPath, podSecretName } from "./naming";
import { selectIdentity, type IdentityCandidate } from "./selection";

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
 * name the operator derives for pods it finds without injection), or `meshid-<generateName><suffix>`
 * when the API server has not named the pod yet at admission (Deployments, ReplicaSets).
 */
export function injectionSecretName(pod: V1Pod, suffix: string): string {
  const name = pod.metadata?.name;
  if (name) return podSecretName(name);
  const prefix = pod.metadata?.generateName ?? "pod-";
  return podSecretName(`${prefix}${suffix}`);
}

/** alreadyInjected is true when the pod carries the volume (a re-invocation or a copy). */
export function alreadyInjected(pod: V1Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.name === volumeName);
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

/** injectionPatch adds the Secret volume, a read-only mount in every container, and the annotation. */
export function injectionPatch(pod: V1Pod, secretName: string): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const volume = { name: volumeName, secret: { secretName, defaultMode: 0o440 } };
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
  if (pod.metadata?.annotations === undefined) {
    ops.push({
      op: "add",
      path: "/metadata/annotations",
      value: { [annotations.secret]: secretName },
    });
  } else {
    ops.push({
      op: "add",
      path: `/metadata/annotations/${escape(annotations.secret)}`,
      value: secretName,
    });
  }
  return ops;
}
