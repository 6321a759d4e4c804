/**
 * The MeshCA's inventory: live leaves counted by where their verified chain leads and by the
 * intermediate that signed them, and the phase that follows from it. Pure: the verdicts come from
 * the same verification the pod reconcile uses.
 */
import type { IssuerCount, MeshCAPhase } from "../../api/v1alpha1/meshca";

/** LeafVerdict is what verification found for one live leaf. */
export interface LeafVerdict {
  chain?: "current" | "other-trusted" | "untrusted";
  issuerFingerprint?: string;
}

/** CaInventory is the status part computed from the leaves. */
export interface CaInventory {
  phase: MeshCAPhase;
  leaves: { total: number; current: number; previous: number; untrusted: number };
  issuers: IssuerCount[];
}

/**
 * caInventory counts `leaves`; the phase is Draining while any live leaf is signed by another
 * trusted CA than the current one, Active otherwise. Issuers are sorted by count, then fingerprint,
 * so the status does not change when nothing did.
 */
export function caInventory(leaves: readonly LeafVerdict[]): CaInventory {
  const counts = { total: leaves.length, current: 0, previous: 0, untrusted: 0 };
  const byIssuer = new Map<string, number>();
  for (const l of leaves) {
    if (l.chain === "current") counts.current++;
    else if (l.chain === "other-trusted") counts.previous++;
    else counts.untrusted++;
    if (l.issuerFingerprint && l.chain !== "untrusted")
      byIssuer.set(l.issuerFingerprint, (byIssuer.get(l.issuerFingerprint) ?? 0) + 1);
  }
  const issuers = [...byIssuer.entries()]
    .map(([fingerprint, n]) => ({ fingerprint, leaves: n }))
    .sort((a, b) => b.leaves - a.leaves || a.fingerprint.localeCompare(b.fingerprint));
  return { phase: counts.previous > 0 ? "Draining" : "Active", leaves: counts, issuers };
}
