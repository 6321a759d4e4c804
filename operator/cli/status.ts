/**
 * kubectl meshid status: the CA's state and each MeshIdentity's counts. Pure: built from the CA
 * Secrets, MeshIdentities and meshid's Secrets the caller read.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { CONDITION_READY, findCondition } from "../../api/v1alpha1/conditions";
import { decodeCaSecretData, summarizeCertificates, verifyLeafChain } from "../pki";
import { labels } from "../policy/naming";
import { secretText } from "./inventory";
import type { CaSecretRead } from "./kube";
import { rfc3339, type Column } from "./output";

/** CaState is how a CA Secret looks to the plugin. */
export interface CaState {
  secret: string;
  state: "Ready" | "Missing" | "Corrupt" | "Invalid" | "Unreadable";
  message?: string;
  subject?: string;
  fingerprint?: string;
  notAfter?: string;
}

/** IdentityStatus is one MeshIdentity's line. */
export interface IdentityStatus {
  namespace: string;
  name: string;
  ready: string;
  reason?: string;
  message?: string;
  selected?: number;
  issued?: number;
  secrets: number;
  mounted: number;
  earliestExpiry?: string;
  nextRenewal?: string;
}

/**
 * caState judges a CA Secret: its certificate must chain to the roots of its ca.crt and be valid
 * now. Only the certificate side is read: the private key is never decoded or shown.
 */
export function caState(name: string, read: CaSecretRead, now: Date): CaState {
  const { secret, forbidden } = read;
  if (forbidden) return { secret: name, state: "Unreadable", message: forbidden };
  if (!secret) return { secret: name, state: "Missing", message: "the Secret does not exist" };
  let pems;
  try {
    pems = decodeCaSecretData(secret.data);
  } catch (err) {
    return { secret: name, state: "Corrupt", message: (err as Error).message };
  }
  try {
    const [cert] = summarizeCertificates(pems.certPem, "tls.crt");
    const chain = verifyLeafChain(pems.certPem, pems.caPem, now);
    return {
      secret: name,
      state: chain.verified ? "Ready" : "Invalid",
      ...(chain.problem ? { message: chain.problem } : {}),
      subject: cert?.subject,
      fingerprint: cert?.fingerprint,
      notAfter: rfc3339(cert?.notAfter),
    };
  } catch (err) {
    return { secret: name, state: "Corrupt", message: (err as Error).message };
  }
}

/** identityStatuses counts, per MeshIdentity, its Secrets and how many of them pods mount. */
export function identityStatuses(
  identities: readonly MeshIdentity[],
  secrets: readonly V1Secret[],
  mountedSecrets: ReadonlySet<string>,
): IdentityStatus[] {
  return identities
    .map((mi) => {
      const namespace = mi.metadata.namespace ?? "";
      const name = mi.metadata.name ?? "";
      const own = secrets.filter(
        (s) =>
          s.metadata?.namespace === namespace && s.metadata?.labels?.[labels.identity] === name,
      );
      const expiries = own
        .map((s) => {
          try {
            return summarizeCertificates(secretText(s, "tls.crt"), "tls.crt")[0]?.notAfter;
          } catch {
            return undefined;
          }
        })
        .filter((d): d is Date => d !== undefined)
        .sort((a, b) => a.getTime() - b.getTime());
      const ready = findCondition(mi.status?.conditions, CONDITION_READY);
      return {
        namespace,
        name,
        ready: ready?.status ?? "Unknown",
        reason: ready?.reason,
        message: ready?.message,
        selected: mi.status?.selectedPods,
        issued: mi.status?.issuedPods,
        secrets: own.length,
        mounted: own.filter((s) => mountedSecrets.has(`${namespace}/${s.metadata?.name}`)).length,
        earliestExpiry: rfc3339(expiries[0]),
        nextRenewal: rfc3339(mi.status?.nextRenewalTime),
      };
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** caColumns are the columns of the CA table. */
export const caColumns: Column<CaState & { role: string }>[] = [
  { header: "CA", cell: (c) => c.role },
  { header: "SECRET", cell: (c) => c.secret },
  { header: "STATE", cell: (c) => c.state },
  { header: "SUBJECT", cell: (c) => c.subject },
  { header: "NOT AFTER", cell: (c) => c.notAfter },
  { header: "FINGERPRINT", cell: (c) => c.fingerprint?.slice(0, 12) },
  { header: "MESSAGE", cell: (c) => c.message, wide: true },
];

/** identityColumns are the columns of the MeshIdentity table. */
export function identityColumns(allNamespaces: boolean): Column<IdentityStatus>[] {
  const count = (n: number | undefined) => (n === undefined ? undefined : String(n));
  return [
    ...(allNamespaces ? [{ header: "NAMESPACE", cell: (s: IdentityStatus) => s.namespace }] : []),
    { header: "NAME", cell: (s) => s.name },
    { header: "READY", cell: (s) => s.ready },
    { header: "REASON", cell: (s) => s.reason },
    { header: "SELECTED", cell: (s) => count(s.selected) },
    { header: "ISSUED", cell: (s) => count(s.issued) },
    { header: "SECRETS", cell: (s) => count(s.secrets) },
    { header: "MOUNTED", cell: (s) => count(s.mounted) },
    { header: "EARLIEST EXPIRY", cell: (s) => s.earliestExpiry },
    { header: "NEXT RENEWAL", cell: (s) => s.nextRenewal },
    { header: "MESSAGE", cell: (s) => s.message, wide: true },
  ];
}
