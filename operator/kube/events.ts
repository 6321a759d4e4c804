/**
 * recordEvent records a Kubernetes Event about an object, fire-and-forget: a failed Event write is
 * logged at debug level and never fails the reconcile that reported it.
 */
import { errorText } from "../errors";
import type { Clock } from "../clock";
import type { Logger } from "../logger";
import type { EventPort } from "./client";
import { buildEvent } from "./objects";

/** EventSubject is the object an Event is about. */
export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string; name?: string; uid?: string };
}

/** EventDeps are what recording an Event needs. */
export interface EventDeps {
  kube: EventPort;
  clock: Clock;
  logger: Logger;
}

/** recordEvent writes one Event; the message must never contain key material. */
export function recordEvent(
  deps: EventDeps,
  subject: EventSubject,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
): void {
  const namespace = subject.metadata?.namespace ?? "";
  const event = buildEvent({
    involved: {
      apiVersion: subject.apiVersion ?? "v1",
      kind: subject.kind ?? "",
      namespace,
      name: subject.metadata?.name ?? "",
      ...(subject.metadata?.uid ? { uid: subject.metadata.uid } : {}),
    },
    type,
    reason,
    message,
    now: deps.clock.now(),
  });
  deps.kube.createEvent(namespace, event).catch((err: unknown) => {
    deps.logger.debug("Could not record Event", {
      reason,
      error: errorText(err),
    });
  });
}
