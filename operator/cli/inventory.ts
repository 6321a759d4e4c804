/**
 * The per-pod inventory: which pod holds which certificate, from which issuer, until when, renewing
 * when, mounted or not. Pure: built from listed pods, meshid's Secrets and MeshIdentities. Serial,
 * issuer and notAfter come from the certificate itself; renew-at, which only the Secret records,
 * from its annotation.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { inspectCertificate } from "../pki";
import { annotations, labels, podSecretName } from "../policy/naming";
import { podQualifies, selectIdentity } from "../policy/selection";
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

function certificateFields(secret: V1Secret): Partial<InventoryEntry> {
  try {
    const info = inspectCertificate(secretText(secret, "tls.crt"));
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
): InventoryEntry[] {
  const byOwner = ownedBy(secrets);
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
    };
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
    { header: "SECRET", cell: (e) => e.secret, wide: true },
    {
      header: "BOUND TO POD",
      cell: (e) => (e.secret ? (e.boundToPod ? "yes" : "no") : undefined),
      wide: true,
    },
    { header: "DNS NAMES", cell: (e) => e.dnsNames.join(","), wide: true },
  ];
}
