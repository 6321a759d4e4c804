import { fnv1a64 } from "./hash";

/** The textbook definition, with BigInt, as the reference. */
function reference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

describe("fnv1a64", () => {
  it.each([
    ["the empty string gives the offset basis", "", "cbf29ce484222325"],
    ["'a' gives the published FNV-1a 64 value", "a", "af63dc4c8601ec8c"],
    ["'foobar' gives the published FNV-1a 64 value", "foobar", "85944171f73967e8"],
  ])("%s", (_n, text, hash) => {
    expect(fnv1a64(text)).toBe(hash);
  });

  it("agrees with the BigInt definition on spec-like and non-ASCII input", () => {
    const inputs = [
      JSON.stringify({
        spiffeId: "spiffe://cluster.local/ns/shop/sa/payments",
        dnsNames: ["a.shop.svc"],
        key: { algorithm: "ECDSA", size: 256 },
      }),
      "über-pod-ñ-✓",
      "x".repeat(1000),
    ];
    for (const text of inputs) expect(fnv1a64(text)).toBe(reference(text));
  });
});
