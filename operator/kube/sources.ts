/**
 * ResourceSources for the informers: paged LIST through client-node's typed APIs and WATCH through
 * its Watch, with bookmarks and a server-side timeout so every watch is renewed within minutes.
 */
import * as k8s from "@kubernetes/client-node";
import type { ListPage, ResourceSource, WatchHandle } from "./informer";
import { call } from "./errors";
import { rawRequest } from "./raw";
import type { PodCertificateRequest } from "./pod-certificate-request";

/** pageSize bounds each LIST response, so a cold start with many pods stays light on memory. */
const pageSize = 500;

interface ListBody<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

function toPage<T>(body: ListBody<T>): ListPage<T> {
  return {
    items: body.items,
    resourceVersion: body.metadata?.resourceVersion ?? "",
    continueToken: body.metadata?._continue ?? body.metadata?.continue,
  };
}

function watchTimeoutSeconds(): number {
  // Spread renewals so several informers do not reconnect in lock-step.
  return 240 + Math.floor(Math.random() * 60);
}

function makeWatch<T>(
  kc: k8s.KubeConfig,
  path: string,
  labelSelector?: string,
  fieldSelector?: string,
) {
  const watcher = new k8s.Watch(kc);
  return async (
    rv: string,
    onEvent: (type: string, obj: T) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle> => {
    const query: Record<string, string | number | boolean> = {
      allowWatchBookmarks: true,
      timeoutSeconds: watchTimeoutSeconds(),
    };
    if (rv) query.resourceVersion = rv;
    if (labelSelector) query.labelSelector = labelSelector;
    if (fieldSelector) query.fieldSelector = fieldSelector;
    const req = (await watcher.watch(
      path,
      query,
      (type: string, obj: T) => onEvent(type, obj),
      done,
    )) as {
      abort(): void;
    };
    return { abort: () => req.abort() };
  };
}

/** podSource lists and watches pods in all namespaces. */
export function podSource(kc: k8s.KubeConfig): ResourceSource<k8s.V1Pod> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    describe: "pods",
    list: async (token) =>
      toPage(
        (
          await call("list pods", () =>
            core.listPodForAllNamespaces(undefined, token, undefined, undefined, pageSize),
          )
        ).body,
      ),
    watch: makeWatch<k8s.V1Pod>(kc, "/api/v1/pods"),
  };
}

/** secretSource lists and watches only the Secrets carrying `labelSelector`. */
export function secretSource(
  kc: k8s.KubeConfig,
  labelSelector: string,
): ResourceSource<k8s.V1Secret> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    describe: `secrets (${labelSelector})`,
    list: async (token) =>
      toPage(
        (
          await call("list secrets", () =>
            core.listSecretForAllNamespaces(undefined, token, undefined, labelSelector, pageSize),
          )
        ).body,
      ),
    watch: makeWatch<k8s.V1Secret>(kc, "/api/v1/secrets", labelSelector),
  };
}

/**
 * namedConfigMapSource lists and watches the ConfigMaps of one name in every namespace. Selecting
 * by name (not label) lets RBAC limit the grant to that name, and an edit that strips meshid's
 * labels is still seen.
 */
export function namedConfigMapSource(
  kc: k8s.KubeConfig,
  name: string,
): ResourceSource<k8s.V1ConfigMap> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const fieldSelector = `metadata.name=${name}`;
  return {
    describe: `configmaps (${fieldSelector})`,
    list: async (token) =>
      toPage(
        (
          await call("list configmaps", () =>
            core.listConfigMapForAllNamespaces(
              undefined,
              token,
              fieldSelector,
              undefined,
              pageSize,
            ),
          )
        ).body,
      ),
    watch: makeWatch<k8s.V1ConfigMap>(kc, "/api/v1/configmaps", undefined, fieldSelector),
  };
}

/**
 * customResourceSource lists and watches a custom resource in all namespaces (or cluster-wide),
 * only the objects `fieldSelector` selects when given: `metadata.name=<name>` lets RBAC limit the
 * grant to that name.
 */
export function customResourceSource<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  group: string,
  version: string,
  plural: string,
  fieldSelector?: string,
): ResourceSource<T> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return {
    describe: fieldSelector ? `${plural}.${group} (${fieldSelector})` : `${plural}.${group}`,
    list: async (token) =>
      toPage(
        (
          await call(`list ${plural}.${group}`, () =>
            custom.listClusterCustomObject(
              group,
              version,
              plural,
              undefined,
              undefined,
              token,
              fieldSelector,
              undefined,
              pageSize,
            ),
          )
        ).body as ListBody<T>,
      ),
    watch: makeWatch<T>(kc, `/apis/${group}/${version}/${plural}`, undefined, fieldSelector),
  };
}

/**
 * podCertificateRequestSource lists and watches the PodCertificateRequests (certificates.k8s.io
 * v1beta1) addressed to one signer. client-node 0.20 has no typed API for them: raw requests.
 */
export function podCertificateRequestSource(
  kc: k8s.KubeConfig,
  signerName: string,
): ResourceSource<PodCertificateRequest> {
  const path = "/apis/certificates.k8s.io/v1beta1/podcertificaterequests";
  const fieldSelector = `spec.signerName=${signerName}`;
  return {
    describe: `podcertificaterequests (${fieldSelector})`,
    list: async (token) => {
      const query = new URLSearchParams({ fieldSelector, limit: String(pageSize) });
      if (token) query.set("continue", token);
      const body = await rawRequest<ListBody<PodCertificateRequest>>(kc, {
        method: "GET",
        path: `${path}?${query.toString()}`,
      });
      return toPage(body);
    },
    watch: makeWatch<PodCertificateRequest>(kc, path, undefined, fieldSelector),
  };
}
