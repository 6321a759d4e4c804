import { DurationError } from "./errors";
import { DURATION_PATTERN, formatDuration, parseDuration } from "./duration";

const s = 1000;
const m = 60 * s;
const h = 60 * m;

describe("parseDuration", () => {
  it.each<[string, string, number]>([
    ["reads minutes", "90m", 90 * m],
    ["reads hours", "24h", 24 * h],
    ["reads hours and minutes together", "1h30m", 90 * m],
    ["reads seconds", "30s", 30 * s],
    ["reads all three units in order", "1h2m3s", h + 2 * m + 3 * s],
    ["reads Go's canonical output with zero components", "2160h0m0s", 2160 * h],
    ["reads leading zeros as decimal", "010m", 10 * m],
    ["reads zero", "0s", 0],
    [
      "reads the largest value the digit limits allow",
      "99999h9999999m999999999s",
      99999 * h + 9999999 * m + 999999999 * s,
    ],
  ])("%s (%s)", (_name, input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ["refuses the empty string", ""],
    ["refuses a bare number, which Go accepts only for zero", "10"],
    ["refuses units out of order", "30m1h"],
    ["refuses a repeated unit", "1h1h"],
    ["refuses fractions, which the API does not accept", "1.5h"],
    ["refuses days, which Go has no unit for", "1d"],
    ["refuses milliseconds", "500ms"],
    ["refuses a sign", "-1h"],
    ["refuses spaces", "1h 30m"],
    ["refuses upper-case units", "24H"],
    ["refuses more than five digits of hours", "100000h"],
    ["refuses a unit without a number", "h"],
  ])("%s (%j)", (_name, input) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
  });

  it("names the input and has a stable code", () => {
    let err: unknown;
    try {
      parseDuration("5 minutes");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DurationError);
    expect(err).toMatchObject({ code: "DurationInvalid", retryable: false, input: "5 minutes" });
    expect((err as Error).message).toContain('"5 minutes"');
  });
});

describe("formatDuration", () => {
  it.each<[string, number, string]>([
    ["writes zero as 0s", 0, "0s"],
    ["writes whole hours alone", 24 * h, "24h"],
    ["writes hours and minutes, omitting zero seconds", 90 * m, "1h30m"],
    ["writes minutes and seconds", 200 * s, "3m20s"],
    ["writes all three units", h + 2 * m + 3 * s, "1h2m3s"],
    ["writes hours beyond a day without days", 2160 * h, "2160h"],
    ["drops a sub-second remainder", 20 * m + 20 * s + 333, "20m20s"],
  ])("%s (%d ms)", (_name, ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each<[string, number]>([
    ["refuses a negative duration", -1],
    ["refuses infinity", Infinity],
    ["refuses NaN", NaN],
  ])("%s", (_name, ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });

  it.each(["90m", "24h", "1h30m", "30s", "2160h", "10m", "3m20s"])(
    "round-trips %s through parse and format",
    (text) => {
      expect(parseDuration(formatDuration(parseDuration(text)))).toBe(parseDuration(text));
    },
  );
});

describe("DURATION_PATTERN", () => {
  it("is anchored at both ends, so CEL matches() cannot accept a partial match", () => {
    expect(DURATION_PATTERN.startsWith("^")).toBe(true);
    expect(DURATION_PATTERN.endsWith("$")).toBe(true);
  });
});
