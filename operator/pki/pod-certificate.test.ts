import { generateKeyPairSync, sign, constants } from "node:crypto";
import { podCertificatePublicKey } from "./pod-certificate";
import { stubCsr } from "./testing/openssl";

const uid = "5b0c6a4e-3f7a-4b1e-9d2c-0a1b2c3d4e5f";

describe("podCertificatePublicKey", () => {
  it.each([
    [
      "an ECDSA P-256 request",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      { algorithm: "ECDSA", size: 256 },
    ],
    [
      "an ECDSA P-384 request",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
      { algorithm: "ECDSA", size: 384 },
    ],
    ["an Ed25519 request", ["-algorithm", "ED25519"], { algorithm: "Ed25519" }],
    [
      "an RSA 3072 request",
      ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
      { algorithm: "RSA", size: 3072 },
    ],
  ])("reads and verifies %s", async (_name, genpkey, key) => {
    const { csrB64: csr, publicKeyPem } = await stubCsr(genpkey);
    const got = await podCertificatePublicKey({ stubPKCS10Request: csr, podUid: uid });
    expect(got.key).toEqual(key);
    expect(got.publicKeyPem.replace(/\s/g, "")).toBe(publicKeyPem.replace(/\s/g, ""));
  });

  it("describes a P-521 key as such (the policy, not pki, refuses it for every MeshIdentity)", async () => {
    const { csrB64: csr } = await stubCsr([
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-521",
    ]);
    const got = await podCertificatePublicKey({ stubPKCS10Request: csr, podUid: uid });
    expect(got.key).toEqual({ algorithm: "ECDSA", size: 521 });
  });

  it("refuses a request whose signature was altered", async () => {
    const { csrB64: csr } = await stubCsr([
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
    ]);
    const der = Buffer.from(csr, "base64");
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01;
    await expect(
      podCertificatePublicKey({ stubPKCS10Request: der.toString("base64"), podUid: uid }),
    ).rejects.toMatchObject({ code: "PemMalformed" });
  });

  it.each([
    ["Ed25519", () => generateKeyPairSync("ed25519"), null, {}],
    ["ECDSA", () => generateKeyPairSync("ec", { namedCurve: "P-256" }), "sha256", {}],
    [
      "RSA-PSS",
      () => generateKeyPairSync("rsa", { modulusLength: 3072 }),
      "sha256",
      { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    ],
  ])(
    "accepts a %s proof of possession over the pod UID and refuses it for another UID",
    async (_n, gen, hash, opts) => {
      const { publicKey, privateKey } = gen();
      const pkix = publicKey.export({ type: "spki", format: "der" }).toString("base64");
      const proof = sign(hash, Buffer.from(uid), { key: privateKey, ...opts }).toString("base64");
      await expect(
        podCertificatePublicKey({ pkixPublicKey: pkix, proofOfPossession: proof, podUid: uid }),
      ).resolves.toHaveProperty("key.algorithm");
      await expect(
        podCertificatePublicKey({
          pkixPublicKey: pkix,
          proofOfPossession: proof,
          podUid: `${uid}x`,
        }),
      ).rejects.toMatchObject({ code: "PemMalformed" });
    },
  );

  it("refuses a request without any key", async () => {
    await expect(podCertificatePublicKey({ podUid: uid })).rejects.toMatchObject({
      code: "PemMalformed",
    });
  });
});
