/**
 * The objects of the MeshIdentity health check's cases: the MeshIdentity shop/payments at
 * generation 4, with the status the operator's own computeStatus writes for given counts.
 */
import type { MeshIdentity, MeshIdentityStatus } from "../api/v1alpha1/types";
import { GROUP, KIND, VERSION } from "../api/v1alpha1/names";
import { computeStatus, type StatusInput } from "../operator/policy/status";

/** Health is an Argo CD health status the script gives a MeshIdentity. */
export type Health = "Healthy" | "Progressing" | "Degraded";

/** HealthCase is one object and the status and message Argo CD must report for it. */
export interface HealthCase {
  /** file is the testdata file name, without directory. */
  file: string;
  /** why says, in a sentence, what the case shows; it heads the testdata file. */
  why: string;
  object: MeshIdentity;
  expected: { status: Health; message: string };
}

const now = new Date("2026-11-28T12:00:00Z");
/** generation is the metadata.generation of every case's MeshIdentity. */
export const generation = 4;

/** statusOf is the status the operator writes for these counts, at generation 4 unless given. */
export function statusOf(counts: Partial<StatusInput>): MeshIdentityStatus {
  return computeStatus({
    generation,
    ca: { ready: true },
    selected: 3,
    conflicts: 0,
    issued: 3,
    restartRequired: 0,
    now,
    ...counts,
  });
}

/** identity is the MeshIdentity shop/payments at generation 4 unless given, with `status`. */
export function identity(status?: MeshIdentityStatus, gen = generation): MeshIdentity {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: KIND,
    metadata: { name: "payments", namespace: "shop", generation: gen },
    spec: { selector: { matchLabels: { app: "payments" } } },
    ...(status ? { status } : {}),
  };
}

/** readyMessage is the message of a status's Ready condition. */
export function readyMessage(status: MeshIdentityStatus): string {
  return status.conditions!.find((c) => c.type === "Ready")!.message;
}
