/**
 * PodCertificateLedger remembers the pod certificates meshid issued, by pod UID, for the
 * MeshIdentity status. PodCertificateRequests are deleted 15 minutes after creation by
 * kube-controller-manager, so the ledger outlives them; it is rebuilt from the requests still
 * stored after a restart, and kubelet's next refresh fills in the rest.
 */
import type { PodCertificateRequest } from "../kube/pod-certificate-request";
import { pcrCondition } from "../kube/pod-certificate-request";

/** LedgerEntry is the newest certificate issued to one pod. */
export interface LedgerEntry {
  notAfter: Date;
  beginRefreshAt: Date;
}

/** PodCertificateLedger maps pod UIDs to their newest issued certificate. */
export class PodCertificateLedger {
  private readonly byPod = new Map<string, LedgerEntry>();

  /** observe records an Issued request (the API server lets only meshid's signer write it). */
  observe(pcr: PodCertificateRequest): void {
    if (pcrCondition(pcr)?.type !== "Issued") return;
    const { notAfter, beginRefreshAt } = pcr.status ?? {};
    if (!notAfter || !beginRefreshAt) return;
    this.record(pcr.spec.podUID, {
      notAfter: new Date(notAfter),
      beginRefreshAt: new Date(beginRefreshAt),
    });
  }

  /** record keeps the entry whose certificate expires last. */
  record(podUid: string, entry: LedgerEntry): void {
    const had = this.byPod.get(podUid);
    if (!had || had.notAfter < entry.notAfter) this.byPod.set(podUid, entry);
  }

  /** current is the pod's certificate while it is valid at `now`; expired entries are dropped. */
  current(podUid: string, now: Date): LedgerEntry | undefined {
    const entry = this.byPod.get(podUid);
    if (entry && entry.notAfter <= now) {
      this.byPod.delete(podUid);
      return undefined;
    }
    return entry;
  }
}
