/**
 * PodCertificateRequest (certificates.k8s.io/v1beta1, Kubernetes Pod Certificates): the fields
 * meshid reads and writes, and the status it writes. client-node 0.20 has no type for it.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";

/** PcrConditionType are the terminal condition types the API server accepts, at most one. */
export type PcrConditionType = "Issued" | "Denied" | "Failed";

/** PodCertificateRequestStatus is the status a signer writes once. */
export interface PodCertificateRequestStatus {
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime: string;
  }[];
  certificateChain?: string;
  notBefore?: string;
  beginRefreshAt?: string;
  notAfter?: string;
}

/** PodCertificateRequest is what kubelet asks a signer for one pod's certificate. */
export interface PodCertificateRequest {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: {
    signerName: string;
    podName: string;
    podUID: string;
    serviceAccountName: string;
    serviceAccountUID: string;
    nodeName: string;
    nodeUID: string;
    maxExpirationSeconds?: number;
    /** base64 DER, as the API serves []byte. */
    pkixPublicKey?: string;
    proofOfPossession?: string;
    stubPKCS10Request?: string;
    unverifiedUserAnnotations?: Record<string, string>;
  };
  status?: PodCertificateRequestStatus;
}

const terminal = new Set(["Issued", "Denied", "Failed"]);

/** isPcrDone tells whether a request already carries its one terminal condition. */
export function isPcrDone(pcr: PodCertificateRequest): boolean {
  return (pcr.status?.conditions ?? []).some((c) => terminal.has(c.type) && c.status === "True");
}

/** pcrCondition is the terminal condition of a request, if any. */
export function pcrCondition(
  pcr: PodCertificateRequest,
): { type: string; reason: string; message: string } | undefined {
  return (pcr.status?.conditions ?? []).find((c) => terminal.has(c.type));
}

/** buildPcrStatus is the request with its one terminal condition (and, for Issued, the chain). */
export function buildPcrStatus(
  pcr: PodCertificateRequest,
  condition: { type: PcrConditionType; reason: string; message: string },
  now: Date,
  issued?: { certificateChain: string; notBefore: Date; notAfter: Date; beginRefreshAt: Date },
): PodCertificateRequest {
  const status: PodCertificateRequestStatus = {
    conditions: [
      {
        type: condition.type,
        status: "True",
        reason: condition.reason,
        // metav1.Condition allows 32768 characters.
        message: condition.message.slice(0, 32_000),
        lastTransitionTime: rfc3339(now),
      },
    ],
    ...(issued
      ? {
          certificateChain: issued.certificateChain,
          notBefore: rfc3339(issued.notBefore),
          beginRefreshAt: rfc3339(issued.beginRefreshAt),
          notAfter: rfc3339(issued.notAfter),
        }
      : {}),
  };
  return {
    apiVersion: "certificates.k8s.io/v1beta1",
    kind: "PodCertificateRequest",
    metadata: pcr.metadata ?? {},
    spec: pcr.spec,
    status,
  };
}

/** rfc3339 formats a metav1.Time: whole seconds, UTC. */
function rfc3339(t: Date): string {
  return `${t.toISOString().slice(0, 19)}Z`;
}
