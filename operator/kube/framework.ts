/**
 * The adapter between @dot-i/k8s-operator's watch callback and meshid's supervised informers:
 * the framework's own watch exits the process on any watch error, so its `watchResource` is
 * served by an informer of the ControllerManager instead (same callback, same events).
 */
import { ResourceMetaImpl, type ResourceEvent } from "@dot-i/k8s-operator";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { errorText } from "../errors";
import type { Logger } from "../logger";
import type { ControllerManager } from "./manager";
import { withoutManagedFields } from "./objects";
import { customResourceSource } from "./sources";

/** FrameworkWatch names a custom resource as the framework's watchResource does. */
export interface FrameworkWatch {
  group: string;
  version: string;
  plural: string;
  onEvent: (event: ResourceEvent) => Promise<void>;
}

/** supervisedWatch feeds `onEvent` from a supervised informer and resolves once it has listed. */
export async function supervisedWatch(
  manager: ControllerManager,
  kc: KubeConfig,
  log: Logger,
  { group, version, plural, onEvent }: FrameworkWatch,
): Promise<void> {
  const informer = manager.informer(`${plural}.${group}`, {
    source: customResourceSource<KubernetesObject>(kc, group, version, plural),
    transform: withoutManagedFields,
  });
  informer.on((type, object) => {
    const meta = ResourceMetaImpl.createWithPlural(plural, object);
    onEvent({ type, object, meta } as ResourceEvent).catch((err: unknown) =>
      log.error("Event handler failed", { resource: plural, error: errorText(err) }),
    );
  });
  informer.start();
  await informer.waitForSync();
}
