/**
 * One limiter for every mass re-issue (a CA change, a MeshIdentity-wide renewal request): the
 * re-issues are spread over a window long enough that, at the configured rate, the window holds
 * them all, and each pod waits its own stable slot of it (`spreadFraction` of its UID), so a
 * restart or a resync does not move a pod's turn.
 */
import { fnv1a64 } from "./hash";

/** Pacing is the configured limit on mass re-issues. */
export interface Pacing {
  /** ratePerSecond is how many paced re-issues a second the cluster may see, on average. */
  ratePerSecond: number;
}

/** defaultPacing is 20 re-issues a second (a 50 ms slot per pod). */
export const defaultPacing: Pacing = { ratePerSecond: 20 };

/** spreadWindowMs is the window that paces `pods` re-issues at the configured rate. */
export function spreadWindowMs(pods: number, pacing: Pacing): number {
  if (!(pacing.ratePerSecond > 0) || pods <= 0) return 0;
  return Math.ceil((pods * 1000) / pacing.ratePerSecond);
}

/**
 * spreadFraction maps a pod UID to [0, 1), so a paced request gives each pod a stable slot. FNV
 * mixes similar inputs poorly, so its two halves are folded and run through murmur3's finaliser.
 */
export function spreadFraction(podUid: string): number {
  const hex = fnv1a64(podUid);
  let h = (parseInt(hex.slice(0, 8), 16) ^ parseInt(hex.slice(8), 16)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 0x1_0000_0000;
}

/** pacedDue is when the pod with this UID gets its turn in a window opened at `since`. */
export function pacedDue(since: Date, spreadMs: number, podUid: string): Date {
  return new Date(since.getTime() + Math.floor(spreadFraction(podUid) * spreadMs));
}

/** SpecWindow is when the paced re-issue for one generation of a MeshIdentity's spec began. */
export interface SpecWindow {
  generation: number;
  since: Date;
}

/**
 * specWindowFor is the window of `generation`: the one already open for it, or one opened now. A
 * change while the previous window is still open keeps that window, so edits in a row cannot push
 * a pod's turn back again and again (the pacer still caps the starts at the rate).
 */
export function specWindowFor(
  seen: SpecWindow | undefined,
  generation: number,
  now: Date,
  spreadMs: number,
): SpecWindow {
  if (seen?.generation === generation) return seen;
  const open = seen !== undefined && seen.since.getTime() + spreadMs > now.getTime();
  return { generation, since: open ? seen.since : now };
}
