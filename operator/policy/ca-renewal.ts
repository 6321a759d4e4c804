/**
 * When an intermediate CA is renewed: at a fixed share of its life, so its successor signs for
 * the remaining third (by default) while every leaf of the old one still verifies under the same
 * root. Leaves are capped at their issuer's notAfter, so renewing late would shorten every leaf.
 */

/** intermediateRenewalTime is notBefore + fraction of the intermediate's life. */
export function intermediateRenewalTime(notBefore: Date, notAfter: Date, fraction: number): Date {
  const life = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + Math.floor(life * fraction));
}

/**
 * renewalExtends tells whether a successor is worth switching to: it must outlive the current
 * intermediate by a tenth of the current one's life at least. A successor capped by a root about
 * to expire is not, and switching to it every recheck would churn every leaf for nothing: the
 * root itself must be rotated.
 */
export function renewalExtends(current: { notBefore: Date; notAfter: Date }, next: Date): boolean {
  const life = current.notAfter.getTime() - current.notBefore.getTime();
  return next.getTime() - current.notAfter.getTime() >= life / 10;
}
