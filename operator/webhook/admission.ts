/**
 * The admission logic of the mutating webhook, apart from HTTP: an AdmissionReview in, the HTTP
 * status and AdmissionReview response out. A malformed review is a 400, never a crash; every pod
 * that no MeshIdentity selects passes unchanged. Dry-run requests get the same answer: the
 * webhook has no side effects.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import {
  alreadyInjected,
  injectionPatch,
  injectionSecretName,
  shouldInject,
} from "../policy/injection";

/** AdmissionDeps are what the admission logic reads. */
export interface AdmissionDeps {
  identities: (namespace: string) => MeshIdentity[];
  /** randomSuffix returns 5 lower-case alphanumerics for generated Secret names. */
  randomSuffix: () => string;
}

/** AdmissionResult is the HTTP answer. */
export interface AdmissionResult {
  status: number;
  body: unknown;
  /** injected names the Secret when the pod was mutated (for logs). */
  injected?: { namespace: string; pod: string; secret: string; identity: string };
}

interface AdmissionRequest {
  uid?: unknown;
  kind?: { kind?: string };
  operation?: string;
  namespace?: string;
  object?: unknown;
  dryRun?: boolean;
}

function bad(message: string): AdmissionResult {
  return { status: 400, body: { error: message } };
}

/** admit handles one parsed AdmissionReview. */
export function admit(review: unknown, deps: AdmissionDeps): AdmissionResult {
  if (!review || typeof review !== "object") return bad("body is not an AdmissionReview object");
  const r = review as { apiVersion?: string; kind?: string; request?: AdmissionRequest };
  if (r.kind !== "AdmissionReview" || r.apiVersion !== "admission.k8s.io/v1") {
    return bad("expected kind AdmissionReview, apiVersion admission.k8s.io/v1");
  }
  const req = r.request;
  if (!req || typeof req.uid !== "string" || req.uid === "") return bad("request.uid is missing");
  const allow = (extra: Record<string, unknown> = {}): AdmissionResult => ({
    status: 200,
    body: {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: req.uid, allowed: true, ...extra },
    },
  });
  if (req.kind?.kind !== "Pod" || req.operation !== "CREATE") return allow();
  const pod = req.object as V1Pod | undefined;
  if (!pod || typeof pod !== "object" || !pod.spec || !Array.isArray(pod.spec.containers)) {
    return bad("request.object is not a Pod with spec.containers");
  }
  const namespace = req.namespace ?? pod.metadata?.namespace ?? "";
  if (alreadyInjected(pod)) return allow();
  const identity = shouldInject(pod, namespace, deps.identities(namespace));
  if (!identity) return allow();
  const secret = injectionSecretName(pod, deps.randomSuffix());
  const patch = injectionPatch(pod, secret);
  return {
    ...allow({
      patchType: "JSONPatch",
      patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
    }),
    injected: {
      namespace,
      pod: pod.metadata?.name || `${pod.metadata?.generateName ?? ""}*`,
      secret,
      identity: identity.metadata.name ?? "",
    },
  };
}
