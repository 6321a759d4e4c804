/**
 * After a cold start, every pod must hold a valid Secret, checked independently of meshid's code
 * with node:crypto's X509Certificate: leaf signed by the intermediate, intermediate by the root
 * in ca.crt, valid now, the pod's SPIFFE ID as a URI SAN, the key matching the leaf, and the
 * Secret owned by this very pod (uid).
 */
import type * as k8s from "@kubernetes/client-node";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { benchServiceAccount, trustDomain } from "./cluster";
import type { CreatedPod } from "./pods";

/** Validation is the outcome of checking a namespace's Secrets against its pods. */
export interface Validation {
  pods: number;
  secrets: number;
  valid: number;
  /** problems holds up to 10 examples of what was wrong. */
  problems: string[];
  invalid: number;
  missing: number;
}

const pemRe = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function text(secret: k8s.V1Secret, key: string): string {
  return Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
}

/** checkSecret returns what is wrong with one pod's Secret, or undefined if it is valid. */
export function checkSecret(
  secret: k8s.V1Secret,
  pod: CreatedPod,
  namespace: string,
  now: Date,
  parsed: Map<string, X509Certificate>,
): string | undefined {
  const parse = (pem: string) => {
    let cert = parsed.get(pem);
    if (!cert) parsed.set(pem, (cert = new X509Certificate(pem)));
    return cert;
  };
  const owner = secret.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
  if (owner?.uid !== pod.uid) return "not owned by the pod's uid";
  const [leafPem, intermediatePem] = text(secret, "tls.crt").match(pemRe) ?? [];
  const roots = (text(secret, "ca.crt").match(pemRe) ?? []).map(parse);
  if (!leafPem || !intermediatePem || roots.length === 0) return "tls.crt or ca.crt incomplete";
  const leaf = new X509Certificate(leafPem);
  const intermediate = parse(intermediatePem);
  if (!leaf.verify(intermediate.publicKey)) return "leaf not signed by the intermediate";
  if (!roots.some((r) => intermediate.verify(r.publicKey)))
    return "intermediate not signed by a root in ca.crt";
  if (new Date(leaf.validFrom) > now || new Date(leaf.validTo) <= now) return "leaf not valid now";
  const spiffeId = `spiffe://${trustDomain}/ns/${namespace}/sa/${benchServiceAccount}`;
  if (!(leaf.subjectAltName ?? "").split(", ").includes(`URI:${spiffeId}`))
    return `leaf lacks ${spiffeId}`;
  if (!leaf.checkPrivateKey(createPrivateKey(text(secret, "tls.key"))))
    return "tls.key does not match the leaf";
  return undefined;
}

/** validateSecrets lists the namespace's managed Secrets (paged) and checks one per pod. */
export async function validateSecrets(
  core: k8s.CoreV1Api,
  namespace: string,
  pods: readonly CreatedPod[],
): Promise<Validation> {
  const secrets: k8s.V1Secret[] = [];
  let token: string | undefined;
  do {
    const { body } = await core.listNamespacedSecret(
      namespace,
      undefined,
      undefined,
      token,
      undefined,
      "meshid.dev/managed=true",
      500,
    );
    secrets.push(...body.items);
    token = body.metadata?._continue || undefined;
  } while (token);
  const byOwner = new Map<string, k8s.V1Secret>();
  for (const s of secrets) {
    const owner = s.metadata?.ownerReferences?.find((o) => o.kind === "Pod")?.name;
    if (owner) byOwner.set(owner, s);
  }
  const now = new Date();
  const parsed = new Map<string, X509Certificate>();
  const result: Validation = {
    pods: pods.length,
    secrets: secrets.length,
    valid: 0,
    invalid: 0,
    missing: 0,
    problems: [],
  };
  for (const pod of pods) {
    const secret = byOwner.get(pod.name);
    let problem: string | undefined;
    if (!secret) {
      result.missing++;
      problem = "no Secret";
    } else {
      try {
        problem = checkSecret(secret, pod, namespace, now, parsed);
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem) result.invalid++;
      else result.valid++;
    }
    if (problem && result.problems.length < 10) result.problems.push(`${pod.name}: ${problem}`);
  }
  return result;
}
