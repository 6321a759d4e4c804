/**
 * FailureLog remembers the latest issuance failure per MeshIdentity and pod, so the
 * MeshIdentity's status can say IssueFailed and why, until the pod's next successful issuance.
 */
export class FailureLog {
  private readonly byIdentity = new Map<string, Map<string, string>>();

  /** record stores a failure of `podKey` under `identityKey`. */
  record(identityKey: string, podKey: string, message: string): void {
    let m = this.byIdentity.get(identityKey);
    if (!m) {
      m = new Map<string, string>();
      this.byIdentity.set(identityKey, m);
    }
    m.set(podKey, message);
  }

  /** clear forgets the failure of one pod. */
  clear(identityKey: string, podKey: string): void {
    const m = this.byIdentity.get(identityKey);
    m?.delete(podKey);
    if (m?.size === 0) this.byIdentity.delete(identityKey);
  }

  /** latest returns one current failure message of the identity, if any. */
  latest(identityKey: string): string | undefined {
    const m = this.byIdentity.get(identityKey);
    if (!m) return undefined;
    let last: string | undefined;
    for (const v of m.values()) last = v;
    return last;
  }

  /** forget drops every failure of an identity (it was deleted). */
  forget(identityKey: string): void {
    this.byIdentity.delete(identityKey);
  }
}
