import { PemMalformedError } from "./errors";
import { derToPem, parseCertificates, sha256Hex, splitCertificates } from "./pem";
import { newTestCa, type TestCa } from "./testing/fixtures";

let a: TestCa;

beforeAll(async () => {
  a = await newTestCa();
});

describe("splitCertificates", () => {
  it("returns every certificate in order and ignores text and other blocks between them", () => {
    const bundle = `# chain\n${a.boot.intermediate.certPem}${a.boot.intermediate.keyPem}\n${a.boot.root.certPem}`;
    const ders = splitCertificates(bundle, "bundle");
    expect(ders.map((d) => derToPem(d))).toEqual([
      a.boot.intermediate.certPem,
      a.boot.root.certPem,
    ]);
  });

  it.each([
    ["no certificate block at all", "just text"],
    ["a private key only", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    [
      "a block that is not base64",
      "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
    ],
    ["an empty block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"],
  ])("refuses %s with PemMalformedError", (_, pem) => {
    expect(() => splitCertificates(pem, "bundle")).toThrow(PemMalformedError);
  });
});

describe("parseCertificates", () => {
  it("names the certificate that does not parse", () => {
    const bad = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    expect(() => parseCertificates(a.boot.root.certPem + bad, "tls.crt")).toThrow(
      /Certificate 2 of tls.crt is not a valid X.509 certificate/,
    );
  });
});

describe("derToPem", () => {
  it("writes 64-character lines and a final newline, as openssl does", () => {
    const pem = derToPem(new Uint8Array(100).fill(7));
    const lines = pem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines.slice(1, -1).every((l) => l.length <= 64)).toBe(true);
    expect(pem.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
  });
});

describe("sha256Hex", () => {
  it("is the lower-case hex SHA-256 of the bytes", () => {
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
