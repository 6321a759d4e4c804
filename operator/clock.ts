/**
 * Clock is the time port: reconcilers and the queue read time and set timers only through it,
 * so tests can drive them with a fake clock.
 */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** systemClock is the real clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    // Node timers overflow above 2^31-1 ms (~24.8 days); a longer wait is re-armed by the caller.
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), 2_147_483_647));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};
