/**
 * The per-pod inventory: which pod holds which certificate, from which issuer, until when, renewing
 * when, mounted or not. Pure: built from listed pods, meshid's Secrets, MeshIdentities and, for
 * PodCertificate delivery, the Issued PodCertificateRequests still stored. Serial,
 * issuer and notAfter come from the certificate itself; renew-at, which only the Secret records,
 * from its annotation.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { inspectCertificate } from "../pki";
import { annotations, labels, podSecretName } from "../policy/naming";
import { pcrCondition, type PodCertificateRequest } from "../kube/pod-certificate-request";
import { podQualifies, selectIdentity } from "../policy/selection";
import { deliversPodCertificate, volumeName } from "../policy/injection";
import { rfc3339, type Column } from "./output";

/** InventoryEntry is one pod meshid serves. */
export interface InventoryEntry {
  namespace: string;
  pod: string;
  podUid: string;
  meshIdentity?: string;
  secret?: string;
  spiffeId?: string;
  dnsNames: string[];
  serial?: string;
  /** issuer is the SHA-256 fingerprint of the issuing CA certificate. */
  issuer?: string;
  notAfter?: string;
  renewAt?: string;
  /** mounted: the pod has a volume of this Secret. */
  mounted: boolean;
  /** boundToPod: the Secret records this pod's UID (a Secret of a replaced pod does not). */
  boundToPod?: boolean;
  /** problem says why the certificate could not be read. */
  problem?: string;
  /** delivery is Secret, or PodCertificate when kubelet holds the key and certificate. */
  delivery: "Secret" | "PodCertificate";
  /** request is the newest Issued PodCertificateRequest still stored (PodCertificate delivery). */
  request?: string;
}

/** secretText decodes one key of a Secret's data. */
export function secretText(secret: V1Secret, key: string): string {
  return Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
}

/** podSecret picks the pod's certificate Secret among those it owns. */
export function podSecret(pod: V1Pod, owned: readonly V1Secret[]): V1Secret | undefined {
  const wanted =
    pod.metadata?.annotations?.[annotations.secret] ?? podSecretName(pod.metadata?.name ?? "");
  return owned.find((s) => s.metadata?.name === wanted) ?? owned[0];
}

/** mounts reports whether the pod has a volume of the Secret. */
export function mounts(pod: V1Pod, secretName: string | undefined): boolean {
  return (
    secretName !== undefined &&
    (pod.spec?.volumes ?? []).some((v) => v.secret?.secretName === secretName)
  );
}

/**
 * projectsPodCertificate reports whether the pod has meshid's projected identity volume (the
 * webhook's name; it refuses pods that declare it). client-node 0.20 drops the podCertificate
 * source itself when it reads a pod, so the volume's name and kind are what can be seen.
 */
function projectsPodCertificate(pod: V1Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.name === volumeName && v.projected !== undefined);
}

/** newestIssued indexes the newest Issued request of each pod UID. */
function newestIssued(
  requests: readonly PodCertificateRequest[],
): Map<string, PodCertificateRequest> {
  const byPod = new Map<string, PodCertificateRequest>();
  for (const r of requests) {
    if (pcrCondition(r)?.type !== "Issued" || !r.status?.certificateChain) continue;
    const had = byPod.get(r.spec.podUID);
    if (!had || (had.status?.notAfter ?? "") < (r.status.notAfter ?? ""))
      byPod.set(r.spec.podUID, r);
  }
  return byPod;
}

function certificateFields(secret: V1Secret): Partial<InventoryEntry> {
  return chainFields(secretText(secret, "tls.crt"));
}

function chainFields(chainPem: string): Partial<InventoryEntry> {
  try {
    const info = inspectCertificate(chainPem);
    return {
      spiffeId: info.uris.find((u) => u.startsWith("spiffe://")),
      dnsNames: info.dnsNames,
      serial: info.serialHex,
      issuer: info.issuerFingerprint,
      notAfter: rfc3339(info.notAfter),
    };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
}

/** ownedBy indexes Secrets by the namespace and UID of the pod that owns them. */
function ownedBy(secrets: readonly V1Secret[]): Map<string, V1Secret[]> {
  const byOwner = new Map<string, V1Secret[]>();
  for (const s of secrets)
    for (const o of s.metadata?.ownerReferences ?? []) {
      if (o.kind !== "Pod") continue;
      const key = `${s.metadata?.namespace}/${o.uid}`;
      byOwner.set(key, [...(byOwner.get(key) ?? []), s]);
    }
  return byOwner;
}

/** buildInventory lists every pod that a MeshIdentity selects or that owns a meshid Secret. */
export function buildInventory(
  pods: readonly V1Pod[],
  secrets: readonly V1Secret[],
  identities: readonly MeshIdentity[],
  requests: readonly PodCertificateRequest[] = [],
): InventoryEntry[] {
  const byOwner = ownedBy(secrets);
  const issued = newestIssued(requests);
  const entries: InventoryEntry[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? "";
    const uid = pod.metadata?.uid ?? "";
    const owned = byOwner.get(`${namespace}/${uid}`) ?? [];
    const sameNs = identities.filter((i) => i.metadata.namespace === namespace);
    const winner = podQualifies(pod) ? selectIdentity(pod, sameNs).winner : undefined;
    if (!winner && owned.length === 0) continue;
    const secret = podSecret(pod, owned);
    const entry: InventoryEntry = {
      namespace,
      pod: pod.metadata?.name ?? "",
      podUid: uid,
      dnsNames: [],
      mounted: mounts(pod, secret?.metadata?.name),
      delivery: "Secret",
    };
    const projects = projectsPodCertificate(pod);
    const byKubelet = winner && deliversPodCertificate(winner.spec.delivery ?? "Secret", pod);
    if (!secret && (projects || byKubelet)) {
      // kubelet holds key and certificate; what meshid issued is in the newest Issued request.
      entry.delivery = "PodCertificate";
      entry.mounted = projects;
      const request = issued.get(uid);
      if (request) {
        Object.assign(entry, {
          request: request.metadata?.name,
          renewAt: rfc3339(request.status?.beginRefreshAt),
          ...chainFields(request.status?.certificateChain ?? ""),
        });
      }
    }
    const identity = secret?.metadata?.labels?.[labels.identity] ?? winner?.metadata.name;
    if (identity) entry.meshIdentity = identity;
    if (secret) {
      const notes = secret.metadata?.annotations ?? {};
      Object.assign(entry, {
        secret: secret.metadata?.name,
        renewAt: rfc3339(notes[annotations.renewAt]),
        boundToPod: notes[annotations.podUid] === uid,
        ...certificateFields(secret),
      });
    }
    entries.push(entry);
  }
  const order = (e: InventoryEntry) => `${e.namespace}/${e.pod}`;
  return entries.sort((a, b) => order(a).localeCompare(order(b)));
}

/** inventoryColumns are the table's columns; NAMESPACE only across namespaces. */
export function inventoryColumns(allNamespaces: boolean): Column<InventoryEntry>[] {
  return [
    ...(allNamespaces ? [{ header: "NAMESPACE", cell: (e: InventoryEntry) => e.namespace }] : []),
    { header: "POD", cell: (e) => e.pod },
    { header: "MESHIDENTITY", cell: (e) => e.meshIdentity },
    { header: "SPIFFE ID", cell: (e) => e.spiffeId },
    { header: "SERIAL", cell: (e) => e.serial },
    { header: "ISSUER", cell: (e) => e.issuer?.slice(0, 12) },
    { header: "NOT AFTER", cell: (e) => e.notAfter },
    { header: "RENEW AT", cell: (e) => e.renewAt },
    { header: "MOUNTED", cell: (e) => (e.mounted ? "yes" : "no") },
    { header: "DELIVERY", cell: (e) => e.delivery, wide: true },
    { header: "SECRET", cell: (e) => e.secret ?? e.request, wide: true },
    {
      header: "BOUND TO POD",
      cell: (e) => (e.secret ? (e.boundToPod ? "yes" : "no") : undefined),
      wide: true,
    },
    { header: "DNS NAMES", cell: (e) => e.dnsNames.join(","), wide: true },
  ];
}
