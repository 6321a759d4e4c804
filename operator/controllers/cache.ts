/**
 * Cache is the read side of an informer as reconcilers see it: get by key, list by namespace,
 * and look up by a secondary index. Tests hand reconcilers a plain in-memory implementation.
 */
import type { V1Secret } from "@kubernetes/client-node";
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
