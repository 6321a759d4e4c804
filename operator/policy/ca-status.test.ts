import { caInventory } from "./ca-status";

describe("caInventory", () => {
  it("is Active with every leaf on the current intermediate", () => {
    expect(
      caInventory([
        { chain: "current", issuerFingerprint: "bb" },
        { chain: "current", issuerFingerprint: "bb" },
      ]),
    ).toEqual({
      phase: "Active",
      leaves: { total: 2, current: 2, previous: 0, untrusted: 0 },
      issuers: [{ fingerprint: "bb", leaves: 2 }],
    });
  });

  it("is Draining while a leaf chains to a previous intermediate, and counts leaves per issuer", () => {
    expect(
      caInventory([
        { chain: "current", issuerFingerprint: "bb" },
        { chain: "other-trusted", issuerFingerprint: "aa" },
        { chain: "current", issuerFingerprint: "bb" },
        { chain: "untrusted" },
        {},
      ]),
    ).toEqual({
      phase: "Draining",
      leaves: { total: 5, current: 2, previous: 1, untrusted: 2 },
      issuers: [
        { fingerprint: "bb", leaves: 2 },
        { fingerprint: "aa", leaves: 1 },
      ],
    });
  });

  it("is Active with no leaves at all", () => {
    expect(caInventory([]).phase).toBe("Active");
  });
});
