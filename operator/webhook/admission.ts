/**
 * The admission logic of the mutating webhook, apart from HTTP: an AdmissionReview in, the HTTP
 * status and AdmissionReview response out. A malformed review is a 400, never a crash; every pod
 * that no MeshIdentity selects passes unchanged. Dry-run requests get the same answer: the
 * webhook has no side effects.
 */
import type { MeshIdentity } from "../../api/v1alpha1/types";
import {
  debugRefusal,
  injectionPatch,
  injectionSecretName,
  podCertificateInjection,
  refusalReason,
  reservedReference,
  shouldInject,
} from "../policy/injection";
import { generatedTokenLength, maxPodNameLength } from "../policy/naming";
import { decodeAdmissionReview, DecodeError } from "./decode";

/** AdmissionDeps are what the admission logic reads. */
export interface AdmissionDeps {
  identities: (namespace: string) => MeshIdentity[];
  /** randomToken returns 10 lower-case alphanumerics for generated Secret names. */
  randomToken: () => string;
}

/** AdmissionResult is the HTTP answer. */
export interface AdmissionResult {
  status: number;
  body: unknown;
  /** injected names the Secret ("" for a pod certificate) when the pod was mutated (for logs). */
  injected?: { namespace: string; pod: string; secret: string; identity: string };
  /** refused says why a pod was denied (for logs). */
  refused?: { namespace: string; pod: string; message: string };
}

/** randomToken returns the random part of a generated Secret name, in generateName's alphabet. */
export function randomToken(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const pick = () => alphabet[Math.floor(Math.random() * alphabet.length)];
  return Array.from({ length: generatedTokenLength }, pick).join("");
}

function bad(message: string): AdmissionResult {
  return { status: 400, body: { error: message } };
}

/**
 * admit handles one parsed JSON body. It never throws for any input: what does not decode is a
 * 400, and the caller still guards against the unexpected.
 */
export function admit(body: unknown, deps: AdmissionDeps): AdmissionResult {
  let req;
  try {
    req = decodeAdmissionReview(body);
  } catch (err) {
    if (err instanceof DecodeError) return bad(err.message);
    throw err;
  }
  const answer = (response: Record<string, unknown>): AdmissionResult => ({
    status: 200,
    body: {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: req.uid, ...response },
    },
  });
  const pod = req.pod;
  if (!pod) return answer({ allowed: true });
  const namespace = req.namespace || pod.metadata?.namespace || "";
  const podName = pod.metadata?.name || `${pod.metadata?.generateName ?? ""}*`;
  const refuse = (why: string): AdmissionResult => {
    const message = `meshid refused the pod: ${why}`;
    return {
      ...answer({ allowed: false, status: { code: 403, reason: "Forbidden", message } }),
      refused: { namespace, pod: podName, message },
    };
  };
  // An ephemeral container added to a running pod is only checked, never injected.
  const refusal =
    req.subResource === "ephemeralcontainers" ? debugRefusal(pod) : refusalReason(pod);
  if (refusal !== undefined) return refuse(refusal);
  // Volumes cannot change after creation (and the pod's own carries meshid's Secret): they are
  // checked at CREATE only.
  const reserved = req.subResource === "" ? reservedReference(req.volumeSecrets) : undefined;
  if (reserved !== undefined)
    return refuse(
      `a volume refers to Secret "${reserved}"; Secrets named meshid-* and meshid.* hold pod identities and only meshid mounts them`,
    );
  const identity = shouldInject(pod, namespace, deps.identities(namespace));
  if (!identity || req.subResource !== "") return answer({ allowed: true });
  const podCertificate = podCertificateInjection(identity);
  if (podCertificate && "refusal" in podCertificate) return refuse(podCertificate.refusal);
  const secret = podCertificate ? "" : injectionSecretName(pod, deps.randomToken());
  if (secret === undefined)
    return refuse(
      `its name is ${podName.length} characters long; a pod that holds a meshid identity may have at most ${maxPodNameLength}`,
    );
  const patch = injectionPatch(pod, podCertificate ?? { secretName: secret });
  return {
    ...answer({
      allowed: true,
      patchType: "JSONPatch",
      patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
    }),
    injected: { namespace, pod: podName, secret, identity: identity.metadata.name ?? "" },
  };
}
