/**
 * Pacer enforces --reissue-rate on the re-issues of a mass change (ca-change, requested) across
 * every pod of this replica: starts are spaced at least 1/rate apart, so no second holds more than
 * the rate. The stable slots of policy/pacing.ts spread the pods over the window; the pacer trims
 * the bursts that hashing leaves. A pod that must wait reserves its start, so the waiting pods are
 * served in turn instead of racing for the next free moment.
 */
import type { Clock } from "../clock";

/** Pacer lets re-issues start no closer than 1000/rate ms apart. */
export class Pacer {
  private nextAt = 0;
  private lastStart = -Infinity;
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ratePerSecond: number,
  ) {}

  private get interval(): number {
    return 1000 / this.ratePerSecond;
  }

  /**
   * take returns 0 when the re-issue of `key` may start now, or how many ms until it may ask
   * again. A pod that must wait keeps its reserved turn; a turn served late still waits for the
   * spacing, so the starts themselves, not only the reservations, are 1/rate apart.
   */
  take(key: string): number {
    const now = this.clock.now().getTime();
    const earliest = this.lastStart + this.interval;
    const mine = this.reserved.get(key);
    if (mine !== undefined) {
      if (now < mine) return mine - now;
      if (now < earliest) return earliest - now;
      this.reserved.delete(key);
      this.lastStart = now;
      return 0;
    }
    const at = Math.max(now, this.nextAt, earliest);
    this.nextAt = at + this.interval;
    if (at <= now) {
      this.lastStart = now;
      return 0;
    }
    this.reserved.set(key, at);
    return at - now;
  }

  /** release drops the reservation of a pod that no longer needs a paced re-issue. */
  release(key: string): void {
    this.reserved.delete(key);
  }
}
