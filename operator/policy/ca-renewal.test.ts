import { intermediateRenewalTime, renewalExtends } from "./ca-renewal";

const t = (iso: string) => new Date(iso);

describe("intermediateRenewalTime", () => {
  it.each([
    ["two thirds of a 30-day life is day 20", 2 / 3, "2026-01-21T00:00:00.000Z"],
    ["half of it is day 15", 0.5, "2026-01-16T00:00:00.000Z"],
  ])("%s", (_n, fraction, want) => {
    const at = intermediateRenewalTime(
      t("2026-01-01T00:00:00Z"),
      t("2026-01-31T00:00:00Z"),
      fraction,
    );
    expect(at.toISOString()).toBe(want);
  });
});

describe("renewalExtends", () => {
  const current = { notBefore: t("2026-01-01T00:00:00Z"), notAfter: t("2026-01-11T00:00:00Z") };
  it.each([
    ["a successor living ten more days is worth it", "2026-01-21T00:00:00Z", true],
    ["one living exactly a tenth of the life longer is worth it", "2026-01-12T00:00:00Z", true],
    ["one capped by the root an hour later is not", "2026-01-11T01:00:00Z", false],
    ["one ending with the current one is not", "2026-01-11T00:00:00Z", false],
  ])("%s", (_n, next, want) => {
    expect(renewalExtends(current, t(next))).toBe(want);
  });
});
