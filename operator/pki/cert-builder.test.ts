import { createPrivateKey } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import {
  buildCertificate,
  type CertificateTemplate,
  encodeName,
  NameOid,
  publicKeyInfo,
  randomSerial,
  wholeSeconds,
} from "./cert-builder";
import { basicConstraints } from "./extensions";
import { generateKey, readPublicKey } from "./keys";
import { derToPem } from "./pem";
import { createSigner } from "./signer";
import { T0 } from "./testing/fixtures";
import { x509Text } from "./testing/openssl";

async function selfSigned(
  change: Partial<CertificateTemplate> = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await generateKey({ algorithm: "ECDSA" });
  const name = encodeName([[NameOid.commonName, "builder test"]]);
  const signer = await createSigner(createPrivateKey(key.privateKeyPem), {
    algorithm: "ECDSA",
    size: 256,
  });
  return buildCertificate(
    {
      serial: randomSerial(),
      issuerName: name,
      subjectName: name,
      notBefore: T0,
      notAfter: new Date(T0.getTime() + 60_000),
      publicKey: publicKeyInfo(readPublicKey(key.publicKeyPem, "test key").spkiDer),
      extensions: [basicConstraints(true)],
      ...change,
    },
    signer,
  );
}

describe("buildCertificate", () => {
  it("produces exactly the bytes pkijs encodes for the same certificate", async () => {
    const der = await selfSigned();
    const reencoded = pkijs.Certificate.fromBER(der).toSchema(true).toBER(false);
    expect(Buffer.from(reencoded).equals(Buffer.from(der))).toBe(true);
  });

  it.each([
    [
      "a date in 2049 is written as UTCTime",
      "2049-12-31T23:59:59Z",
      pkijs.TimeType.UTCTime,
      "Dec 31 23:59:59 2049 GMT",
    ],
    [
      "a date in 2050 is written as GeneralizedTime",
      "2050-01-01T00:00:00Z",
      pkijs.TimeType.GeneralizedTime,
      "Jan  1 00:00:00 2050 GMT",
    ],
  ])("%s, as RFC 5280 requires", async (_, iso, type, shown) => {
    const notAfter = new Date(iso);
    const der = await selfSigned({ notAfter });
    const cert = pkijs.Certificate.fromBER(der);
    expect(cert.notAfter.type).toBe(type);
    expect(cert.notAfter.value).toEqual(notAfter);
    expect(await x509Text(derToPem(der))).toContain(`Not After : ${shown}`);
  });
});

describe("encodeName", () => {
  it.each<[string, [string, string][]]>([
    ["no attributes make an empty Name", []],
    ["one attribute makes one RDN", [[NameOid.commonName, "meshid"]]],
    [
      "each attribute gets an RDN of its own",
      [
        [NameOid.organization, "meshid"],
        [NameOid.commonName, "root"],
      ],
    ],
  ])("%s", (_, attributes) => {
    const der = encodeName(attributes);
    const asn = asn1js.fromBER(new Uint8Array(der)).result as asn1js.Sequence;
    expect(asn.valueBlock.value).toHaveLength(attributes.length);
    const parsed = pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(der));
    expect(parsed.typesAndValues.map((t) => t.type)).toEqual(attributes.map(([oid]) => oid));
  });
});

describe("randomSerial", () => {
  it("is 16 bytes, positive, with its second bit set so it never has a leading zero byte", () => {
    const serials = Array.from({ length: 200 }, randomSerial);
    for (const serial of serials) {
      expect(serial).toHaveLength(16);
      expect((serial[0] ?? 0) & 0xc0).toBe(0x40);
    }
    expect(new Set(serials.map((s) => Buffer.from(s).toString("hex"))).size).toBe(200);
  });
});

describe("wholeSeconds", () => {
  it("drops the milliseconds a certificate cannot carry", () => {
    expect(wholeSeconds(new Date("2026-01-01T00:00:00.999Z"))).toEqual(
      new Date("2026-01-01T00:00:00Z"),
    );
  });
});
