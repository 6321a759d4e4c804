/**
 * What a pod's certificate must contain: the SPIFFE ID derived from the pod's own namespace and
 * service account (never requested), the DNS names rendered for the pod and checked against its
 * namespace's service domain, the pod IP when asked for, usages and key settings.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { ResolvedSpec } from "../../api/v1alpha1/defaults";
import { resolvePodDnsNames, type DnsNamePolicy } from "../../api/v1alpha1/validate";
import type { DesiredCertificate } from "./issuance";
import { podServiceAccount } from "./selection";

/** spiffeIdFor is `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>` (Istio-compatible). */
export function spiffeIdFor(
  trustDomain: string,
  namespace: string,
  serviceAccount: string,
): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** DesiredResult is the desired certificate, or why none can be issued. */
export type DesiredResult =
  { ok: true; desired: DesiredCertificate } | { ok: false; reason: string; message: string };

/** desiredCertificate resolves what `pod` must hold under a MeshIdentity's resolved spec. */
export function desiredCertificate(
  pod: V1Pod,
  spec: ResolvedSpec,
  trustDomain: string,
  dnsPolicy: DnsNamePolicy,
): DesiredResult {
  const namespace = pod.metadata?.namespace ?? "";
  const serviceAccount = podServiceAccount(pod);
  const dns = resolvePodDnsNames(
    spec.dnsNames,
    {
      POD_NAME: pod.metadata?.name ?? "",
      POD_NAMESPACE: namespace,
      SERVICE_ACCOUNT: serviceAccount,
    },
    dnsPolicy,
  );
  if (!dns.ok) return { ok: false, reason: dns.reason, message: dns.message };
  const podIp = pod.status?.podIP;
  const { privateKey } = spec;
  return {
    ok: true,
    desired: {
      spiffeId: spiffeIdFor(trustDomain, namespace, serviceAccount),
      dnsNames: dns.names,
      ipAddresses: spec.includePodIP && podIp ? [podIp] : [],
      usages: spec.usages,
      key: {
        algorithm: privateKey.algorithm,
        ...(privateKey.algorithm !== "Ed25519" ? { size: privateKey.size } : {}),
        rotationPolicy: privateKey.rotationPolicy,
      },
      durationMs: spec.durationMs,
      renewBeforeMs: spec.renewBeforeMs,
    },
  };
}
