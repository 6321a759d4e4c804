import { createPrivateKey, createPublicKey } from "node:crypto";
import {
  generateKey,
  type KeySpec,
  keySpecOf,
  normalizeKeySpec,
  publicKeyFromPrivate,
} from "./keys";
import { InvalidKeySpecError, PemMalformedError, UnsupportedKeyError } from "./errors";
import { oddKey } from "./testing/fixtures";

describe("generateKey", () => {
  it.each<[string, KeySpec, KeySpec]>([
    ["an ECDSA key defaults to P-256", { algorithm: "ECDSA" }, { algorithm: "ECDSA", size: 256 }],
    [
      "an ECDSA 384 key is on P-384",
      { algorithm: "ECDSA", size: 384 },
      { algorithm: "ECDSA", size: 384 },
    ],
    ["an RSA key defaults to 2048 bits", { algorithm: "RSA" }, { algorithm: "RSA", size: 2048 }],
    [
      "an RSA 3072 key has 3072 bits",
      { algorithm: "RSA", size: 3072 },
      { algorithm: "RSA", size: 3072 },
    ],
    ["an Ed25519 key has no size", { algorithm: "Ed25519" }, { algorithm: "Ed25519" }],
  ])(
    "%s, as PKCS#8 and SPKI PEM of the same key pair",
    async (_, spec, expected) => {
      const key = await generateKey(spec);
      expect(key.privateKeyPem).toContain("-----BEGIN PRIVATE KEY-----");
      expect(key.publicKeyPem).toContain("-----BEGIN PUBLIC KEY-----");
      expect(keySpecOf(key.privateKeyPem)).toEqual(expected);
      expect(keySpecOf(key.publicKeyPem)).toEqual(expected);
      const derived = createPublicKey(createPrivateKey(key.privateKeyPem));
      expect(derived.equals(createPublicKey(key.publicKeyPem))).toBe(true);
    },
    20_000,
  );

  it("generates an RSA 4096 key while the event loop keeps running", async () => {
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
      ticks++;
    }, 5);
    const started = performance.now();
    try {
      const key = await generateKey({ algorithm: "RSA", size: 4096 });
      expect(keySpecOf(key.publicKeyPem)).toEqual({ algorithm: "RSA", size: 4096 });
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    // Generation runs on the thread pool: timers keep firing at their pace throughout.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 50));
    expect(maxGap).toBeLessThan(Math.max(250, elapsed / 2));
  }, 30_000);

  it.each<[string, KeySpec]>([
    ["ECDSA on P-521", { algorithm: "ECDSA", size: 521 }],
    ["ECDSA with a made-up size", { algorithm: "ECDSA", size: 255 }],
    ["RSA 1000", { algorithm: "RSA", size: 1000 }],
    ["RSA 1024", { algorithm: "RSA", size: 1024 }],
    ["RSA 8192", { algorithm: "RSA", size: 8192 }],
    ["Ed25519 with a size", { algorithm: "Ed25519", size: 256 }],
    ["an unknown algorithm", { algorithm: "DSA" as KeySpec["algorithm"] }],
  ])("refuses %s with InvalidKeySpecError", async (_, spec) => {
    await expect(generateKey(spec)).rejects.toBeInstanceOf(InvalidKeySpecError);
    await expect(generateKey(spec)).rejects.toMatchObject({ code: "InvalidKeySpec" });
  });
});

describe("normalizeKeySpec", () => {
  it.each<[string, KeySpec, KeySpec]>([
    [
      "ECDSA without a size becomes P-256",
      { algorithm: "ECDSA" },
      { algorithm: "ECDSA", size: 256 },
    ],
    ["RSA without a size becomes 2048", { algorithm: "RSA" }, { algorithm: "RSA", size: 2048 }],
    [
      "a full spec stays as it is",
      { algorithm: "RSA", size: 4096 },
      { algorithm: "RSA", size: 4096 },
    ],
    ["Ed25519 stays without a size", { algorithm: "Ed25519" }, { algorithm: "Ed25519" }],
  ])("%s", (_, spec, expected) => {
    expect(normalizeKeySpec(spec)).toEqual(expected);
  });
});

describe("publicKeyFromPrivate", () => {
  it("derives the SPKI public key that was generated with the private key", async () => {
    const key = await generateKey({ algorithm: "ECDSA" });
    expect(publicKeyFromPrivate(key.privateKeyPem)).toBe(key.publicKeyPem);
  });

  it.each([
    ["an empty string", ""],
    ["a public key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"],
    [
      "a private key block of garbage",
      "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    ],
  ])("refuses %s with PemMalformedError", (_, pem) => {
    expect(() => publicKeyFromPrivate(pem)).toThrow(PemMalformedError);
  });
});

describe("keySpecOf", () => {
  it("reports an RSA 1024 key as it is, without judging it", async () => {
    const key = await oddKey("rsa1024");
    expect(keySpecOf(key.publicKeyPem)).toEqual({ algorithm: "RSA", size: 1024 });
  });

  it("refuses a secp256k1 key with UnsupportedKeyError", async () => {
    const key = await oddKey("secp256k1");
    expect(() => keySpecOf(key.privateKeyPem)).toThrow(UnsupportedKeyError);
  });

  it.each([
    ["garbage text", "hello"],
    [
      "a truncated public key",
      "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----\n",
    ],
  ])("refuses %s with PemMalformedError", (_, pem) => {
    expect(() => keySpecOf(pem)).toThrow(PemMalformedError);
  });
});
