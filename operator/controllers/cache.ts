/**
 * Cache is the read side of an informer as reconcilers see it: get by key, list by namespace,
 * and look up by a secondary index. Tests hand reconcilers a plain in-memory implementation.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { objectKey } from "../policy/naming";

export interface Cache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(name: string, value: string): T[];
}

/** secretsByPod indexes issued Secrets by the `namespace/name` of the pod that owns them. */
export const secretsByPod = {
  name: "pod",
  fn: (s: V1Secret): string | undefined => {
    const owner = s.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
    return owner ? objectKey(s.metadata?.namespace ?? "", owner.name) : undefined;
  },
};

/** podsByUid indexes pods by UID: Secrets name their pod by UID, and only a live UID binds. */
export const podsByUid = {
  name: "uid",
  fn: (p: V1Pod): string | undefined => p.metadata?.uid,
};
