/**
 * Durations as the MeshIdentity API writes them: a subset of Go's `time.ParseDuration` syntax made
 * of whole hours, minutes and seconds in that order (`90m`, `24h`, `1h30m`, `2160h0m0s`). Every
 * string accepted here is parsed identically by CEL's `duration()` at the API server, and the
 * digit limits keep any accepted value far from int64 nanosecond overflow.
 */
import { DurationError } from "./errors";

/**
 * DURATION_PATTERN is the RE2- and ECMAScript-compatible regular expression of a duration. It
 * also matches the empty string; callers require at least one component.
 */
export const DURATION_PATTERN = "^([0-9]{1,5}h)?([0-9]{1,7}m)?([0-9]{1,9}s)?$";

const durationRe = new RegExp(DURATION_PATTERN);
const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;

/** parseDuration returns the length of a duration string in milliseconds, or throws DurationError. */
export function parseDuration(input: string): number {
  const m = durationRe.exec(input);
  if (!m || input === "") throw new DurationError(input);
  const [, h, min, s] = m;
  return component(h) * MS_PER_HOUR + component(min) * MS_PER_MINUTE + component(s) * MS_PER_SECOND;
}

function component(group: string | undefined): number {
  return group === undefined ? 0 : Number.parseInt(group, 10);
}

/**
 * formatDuration renders milliseconds in the shortest form parseDuration reads back, omitting zero
 * components (`5400000` → `1h30m`, `0` → `0s`). Durations in this API are whole seconds, so a
 * sub-second remainder is dropped. Throws RangeError for a negative or non-finite value.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms} ms`);
  const totalSeconds = Math.floor(ms / MS_PER_SECOND);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const out = `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 ? `${s}s` : ""}`;
  return out === "" ? "0s" : out;
}
