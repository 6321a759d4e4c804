/**
 * The cases of the MeshIdentity health check that the operator's status computation does not
 * produce by itself: objects the operator has not caught up with, and Ready conditions the script
 * does not know. hack/argocd-health.ts adds one case per reason the operator writes.
 */
import type { MeshIdentityStatus } from "../api/v1alpha1/types";
import {
  generation,
  identity,
  readyMessage,
  statusOf,
  type HealthCase,
} from "./argocd-health-objects";

const waitingForStatus = "Waiting for the meshid operator to report status";
const waitingForGeneration = `Waiting for the meshid operator to observe generation ${generation}`;

/** withReady builds a status whose Ready condition the operator would not write itself. */
function withReady(ready: Record<string, unknown>): MeshIdentityStatus {
  return {
    observedGeneration: generation,
    conditions: [
      {
        type: "Other",
        status: "True",
        reason: "X",
        message: "not this one",
        lastTransitionTime: "",
      },
      { type: "Ready", lastTransitionTime: "2026-11-28T12:00:00Z", ...ready } as never,
    ],
  };
}

/** edgeCases are objects before the operator caught up, and conditions the script does not know. */
export function edgeCases(): HealthCase[] {
  const old = statusOf({ generation: generation - 1 });
  const { observedGeneration: _o, ...unversioned } = statusOf({});
  const quoted = 'DNS name "a\\b" is not allowed — ünïcode';
  return [
    {
      file: "progressing-no-status.yaml",
      why: "A MeshIdentity the operator has not reported on yet is Progressing.",
      object: identity(),
      expected: { status: "Progressing", message: waitingForStatus },
    },
    {
      file: "progressing-no-conditions.yaml",
      why: "A status without conditions is Progressing.",
      object: identity({ observedGeneration: generation }),
      expected: { status: "Progressing", message: waitingForStatus },
    },
    {
      file: "progressing-older-generation.yaml",
      why: "Ready=True computed from an older spec is Progressing.",
      object: identity(old),
      expected: { status: "Progressing", message: waitingForGeneration },
    },
    {
      file: "progressing-condition-older-generation.yaml",
      why: "Only the condition's observedGeneration is behind: Progressing.",
      object: identity({ ...old, observedGeneration: generation }),
      expected: { status: "Progressing", message: waitingForGeneration },
    },
    {
      file: "progressing-older-generation-conflict.yaml",
      why: "Ready=False computed from an older spec is Progressing, not Degraded.",
      object: identity(statusOf({ generation: generation - 1, conflicts: 3 })),
      expected: { status: "Progressing", message: waitingForGeneration },
    },
    {
      file: "healthy-no-observed-generation.yaml",
      why: "A status without observedGeneration is judged by its condition.",
      object: identity({
        ...unversioned,
        conditions: unversioned.conditions!.map(({ observedGeneration: _g, ...c }) => c),
      }),
      expected: { status: "Healthy", message: readyMessage(unversioned) },
    },
    {
      file: "progressing-ready-unknown.yaml",
      why: "Ready=Unknown is Progressing.",
      object: identity(withReady({ status: "Unknown", reason: "Starting", message: "starting" })),
      expected: { status: "Progressing", message: "starting" },
    },
    {
      file: "degraded-unknown-reason.yaml",
      why: "Ready=False with a reason newer than the script is Degraded.",
      object: identity(withReady({ status: "False", reason: "SomethingNew", message: "broken" })),
      expected: { status: "Degraded", message: "broken" },
    },
    {
      file: "degraded-no-message.yaml",
      why: "A condition without a message is reported by its status and reason.",
      object: identity(withReady({ status: "False", reason: "CANotReady" })),
      expected: { status: "Degraded", message: "Ready=False (CANotReady)" },
    },
    {
      file: "degraded-quoted-message.yaml",
      why: "Quotes, backslashes and non-ASCII text in a message reach Argo CD unchanged.",
      object: identity(
        withReady({ status: "False", reason: "DNSNameNotAllowed", message: quoted }),
      ),
      expected: { status: "Degraded", message: quoted },
    },
  ];
}
