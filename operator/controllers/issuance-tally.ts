/**
 * IssuanceTally counts issued certificates per MeshIdentity and reason between two recounts of
 * that MeshIdentity, which reports them as one Event ("Issued 37 certificates (35 new, 2
 * renewal)"). One Event per certificate would double the API writes of a mass issuance.
 */
import type { IssueReason } from "../policy/issuance";

export class IssuanceTally {
  private readonly counts = new Map<string, Map<IssueReason, number>>();

  /** record counts one certificate issued for `identityKey`. */
  record(identityKey: string, reason: IssueReason): void {
    let m = this.counts.get(identityKey);
    if (!m) {
      m = new Map<IssueReason, number>();
      this.counts.set(identityKey, m);
    }
    m.set(reason, (m.get(reason) ?? 0) + 1);
  }

  /** drain returns and forgets what was counted for `identityKey`; undefined when nothing was. */
  drain(identityKey: string): string | undefined {
    const m = this.counts.get(identityKey);
    if (!m) return undefined;
    this.counts.delete(identityKey);
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const parts = [...m.entries()]
      .sort(([, a], [, b]) => b - a)
      .map(([reason, n]) => `${n} ${reason}`);
    return `Issued ${total} certificate${total === 1 ? "" : "s"} (${parts.join(", ")})`;
  }
}
