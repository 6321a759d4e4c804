/**
 * The binding between a pod and the Secret that holds its identity. meshid chooses the name and
 * ties the Secret to the pod's UID (its ownerReference); nothing a pod's author writes can move
 * that binding to another pod. Pure functions over cached objects.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { labels, managedValue, podSecretName } from "./naming";
import { volumeName } from "./injection";

/**
 * identitySecretName is the Secret a pod's identity goes into: the Secret of meshid's volume when
 * the pod has it (pod volumes cannot change after creation, and the webhook refuses pods that
 * bring the volume themselves), otherwise `meshid-<pod>`; undefined for a pod whose name is too
 * long to hold an identity. Annotations are never read: a pod's author can rewrite them at any time.
 */
export function identitySecretName(pod: V1Pod): string | undefined {
  const volume = (pod.spec?.volumes ?? []).find((v) => v.name === volumeName);
  const fromVolume = volume?.secret?.secretName;
  if (fromVolume) return fromVolume;
  return podSecretName(pod.metadata?.name ?? "");
}

/** podOwnerUid is the UID of the pod a Secret is bound to: its Pod ownerReference. */
export function podOwnerUid(secret: V1Secret): string | undefined {
  return secret.metadata?.ownerReferences?.find((o) => o.kind === "Pod" && o.apiVersion === "v1")
    ?.uid;
}

/**
 * SecretHolder says who holds a Secret name a pod needs:
 * - `free`: no such Secret; create it.
 * - `self`: bound to this pod; keep or renew it.
 * - `stale`: meshid's, bound to a pod that no longer exists (a pod re-created under the same name,
 *   or deleted before garbage collection ran); take it over.
 * - `other-pod`: bound to another live pod; never touch it.
 * - `foreign`: not meshid's (no managed label); never touch it.
 */
export type SecretHolder =
  | { kind: "free" }
  | { kind: "self" }
  | { kind: "stale" }
  | { kind: "other-pod"; ownerUid: string }
  | { kind: "foreign" };

/**
 * secretHolder decides who holds `secret` for `pod`. `isLivePod(uid)` answers from the pod cache;
 * a Secret with several Pod owners is held by any live one of them.
 */
export function secretHolder(
  secret: V1Secret | undefined,
  pod: V1Pod,
  isLivePod: (uid: string) => boolean,
): SecretHolder {
  if (!secret) return { kind: "free" };
  if (secret.metadata?.labels?.[labels.managed] !== managedValue) return { kind: "foreign" };
  const podUid = pod.metadata?.uid ?? "";
  const owners = (secret.metadata?.ownerReferences ?? []).filter((o) => o.kind === "Pod");
  if (owners.length === 1 && owners[0]!.uid === podUid && podUid !== "") return { kind: "self" };
  const live = owners.find((o) => o.uid !== podUid && isLivePod(o.uid));
  if (live) return { kind: "other-pod", ownerUid: live.uid };
  return { kind: "stale" };
}

/** secretConflictMessage explains a `foreign` or `other-pod` holder to the pod's owner. */
export function secretConflictMessage(secretName: string, holder: SecretHolder): string {
  return holder.kind === "foreign"
    ? `Secret ${secretName} exists and is not managed by meshid; it was left as it is and no certificate was issued`
    : `Secret ${secretName} holds the identity of another running pod; it was left as it is and no certificate was issued (a pod cannot take over another pod's identity Secret)`;
}
