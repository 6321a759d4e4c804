import { bootstrapCa, bootstrapSecretData } from "../pki";
import { caState } from "./status";

const now = new Date("2026-11-28T12:00:00Z");
let data: ReturnType<typeof bootstrapSecretData>;
let other: ReturnType<typeof bootstrapSecretData>;

beforeAll(async () => {
  const boot = () =>
    bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now,
    });
  [data, other] = (await Promise.all([boot(), boot()])).map(bootstrapSecretData) as [
    typeof data,
    typeof other,
  ];
});

describe("caState", () => {
  it("calls a CA whose certificate chains to its ca.crt and is valid now Ready", () => {
    expect(
      caState("ns/meshid-ca", { secret: { data: { ...data.intermediate } } }, now),
    ).toMatchObject({
      state: "Ready",
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
    expect(caState("ns/meshid-root-ca", { secret: { data: { ...data.root } } }, now).state).toBe(
      "Ready",
    );
  });

  it.each([
    ["a Secret that does not exist", "Missing", () => ({}), /does not exist/],
    [
      "a Secret the user may not read",
      "Unreadable",
      () => ({ forbidden: "secrets is forbidden" }),
      /forbidden/,
    ],
    [
      "a Secret without tls.crt",
      "Corrupt",
      () => ({ secret: { data: { "tls.key": "eA==" } } }),
      /no "tls.crt"/,
    ],
    [
      "an intermediate whose ca.crt is another CA's root",
      "Invalid",
      () => ({ secret: { data: { ...data.intermediate, "ca.crt": other.root["ca.crt"] } } }),
      /does not chain to a trusted root/,
    ],
  ])("reports %s as %s", (_name, state, read, message) => {
    const s = caState("ns/meshid-ca", read(), now);
    expect(s.state).toBe(state);
    expect(s.message).toMatch(message);
  });

  it("reports an expired CA as Invalid", () => {
    const later = new Date(now.getTime() + 20 * 365 * 24 * 3600 * 1000);
    const s = caState("ns/meshid-ca", { secret: { data: { ...data.intermediate } } }, later);
    expect(s).toMatchObject({
      state: "Invalid",
      message: expect.stringMatching(/expired/) as unknown,
    });
  });
});
