import {
  bootstrapSecretData,
  type CaSecretData,
  decodeCaSecretData,
  encodeCaSecretData,
  renewedSecretData,
} from "./ca-secret";
import { signIntermediate } from "./ca";
import { CaSecretCorruptError } from "./errors";
import { loadSigningCa } from "./signing-ca";
import { DAY, newTestCa, rootCaOf, T0, type TestCa } from "./testing/fixtures";

let a: TestCa;
let data: CaSecretData;

beforeAll(async () => {
  a = await newTestCa();
  data = encodeCaSecretData({ ...a.boot.intermediate, caPem: a.boot.root.certPem });
});

const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("encodeCaSecretData", () => {
  it("base64-encodes each PEM under tls.crt, tls.key and ca.crt", () => {
    expect(Object.keys(data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    expect(Buffer.from(data["tls.crt"], "base64").toString()).toBe(a.boot.intermediate.certPem);
    expect(Buffer.from(data["tls.key"], "base64").toString()).toBe(a.boot.intermediate.keyPem);
    expect(Buffer.from(data["ca.crt"], "base64").toString()).toBe(a.boot.root.certPem);
  });
});

describe("decodeCaSecretData", () => {
  it("returns the PEMs that encodeCaSecretData stored", () => {
    expect(decodeCaSecretData({ ...data })).toEqual({
      certPem: a.boot.intermediate.certPem,
      keyPem: a.boot.intermediate.keyPem,
      caPem: a.boot.root.certPem,
    });
  });

  it("accepts base64 wrapped over several lines", () => {
    const wrapped = data["tls.crt"].replace(/(.{76})/g, "$1\n");
    expect(decodeCaSecretData({ ...data, "tls.crt": wrapped }).certPem).toBe(
      a.boot.intermediate.certPem,
    );
  });

  it.each<[string, () => Record<string, string> | undefined, string]>([
    ["a Secret without data", () => undefined, '"tls.crt"'],
    [
      "a Secret without tls.crt",
      () => ({ "tls.key": data["tls.key"], "ca.crt": data["ca.crt"] }),
      '"tls.crt"',
    ],
    [
      "a Secret without tls.key",
      () => ({ "tls.crt": data["tls.crt"], "ca.crt": data["ca.crt"] }),
      '"tls.key"',
    ],
    [
      "a Secret without ca.crt",
      () => ({ "tls.crt": data["tls.crt"], "tls.key": data["tls.key"] }),
      '"ca.crt"',
    ],
    ["an empty tls.key", () => ({ ...data, "tls.key": "" }), '"tls.key"'],
    [
      "a tls.crt that is not base64",
      () => ({ ...data, "tls.crt": "%%% not base64 %%%" }),
      '"tls.crt"',
    ],
    [
      "a ca.crt that is base64 of text, not PEM",
      () => ({ ...data, "ca.crt": b64("hello") }),
      '"ca.crt"',
    ],
    [
      "a tls.key that holds a certificate",
      () => ({ ...data, "tls.key": data["tls.crt"] }),
      '"tls.key"',
    ],
  ])("refuses %s with CaSecretCorruptError naming the key", (_, build, key) => {
    const err = (() => {
      try {
        decodeCaSecretData(build());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CaSecretCorruptError);
    expect((err as CaSecretCorruptError).code).toBe("CaSecretCorrupt");
    expect((err as CaSecretCorruptError).message).toContain(key);
  });
});

describe("bootstrapSecretData", () => {
  it("stores the root with itself as ca.crt and the intermediate with the root as ca.crt", async () => {
    const { root, intermediate } = bootstrapSecretData(a.boot);
    expect(decodeCaSecretData({ ...root })).toEqual({
      certPem: a.boot.root.certPem,
      keyPem: a.boot.root.keyPem,
      caPem: a.boot.root.certPem,
    });
    const back = decodeCaSecretData({ ...intermediate });
    const ca = await loadSigningCa({
      certPem: back.certPem,
      keyPem: back.keyPem,
      rootsPem: back.caPem,
      now: T0,
    });
    expect(ca.fingerprint).toBe(a.ca.fingerprint);
    const rootBack = decodeCaSecretData({ ...root });
    const rootCa = await loadSigningCa({
      certPem: rootBack.certPem,
      keyPem: rootBack.keyPem,
      rootsPem: rootBack.caPem,
      now: T0,
    });
    expect(rootCa.trustBundlePem).toBe(a.boot.root.certPem);
  });
});

describe("renewedSecretData", () => {
  const text = (d: Record<string, string>, key: string) =>
    Buffer.from(d[key] ?? "", "base64").toString();

  it("puts the successor in tls.crt and tls.key, keeps ca.crt, and keeps earlier intermediates only while they are valid", async () => {
    const root = await rootCaOf(a.boot);
    const opts = {
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
    };
    const second = await signIntermediate(root, {
      ...opts,
      now: new Date(T0.getTime() + 200 * DAY),
    });
    const third = await signIntermediate(root, {
      ...opts,
      now: new Date(T0.getTime() + 300 * DAY),
    });

    const once = renewedSecretData({ ...data }, second, new Date(T0.getTime() + 200 * DAY));
    expect(text(once, "tls.crt")).toBe(second.certPem);
    expect(text(once, "tls.key")).toBe(second.keyPem);
    expect(text(once, "ca.crt")).toBe(a.boot.root.certPem);
    expect(text(once, "previous.crt")).toBe(a.boot.intermediate.certPem);
    expect(() => decodeCaSecretData(once)).not.toThrow();

    const beforeFirstExpires = renewedSecretData(once, third, new Date(T0.getTime() + 300 * DAY));
    expect(text(beforeFirstExpires, "previous.crt")).toBe(
      second.certPem + a.boot.intermediate.certPem,
    );
    const afterFirstExpired = renewedSecretData(once, third, new Date(T0.getTime() + 400 * DAY));
    expect(text(afterFirstExpired, "previous.crt")).toBe(second.certPem);
  });
});
