/**
 * Test support: openssl as the independent judge of what operator/pki produces, and temporary
 * directories for the PEM files it reads. Used by tests only.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** OpensslResult is openssl's exit status and its combined output. */
export interface OpensslResult {
  ok: boolean;
  output: string;
}

/** openssl runs the openssl CLI; a non-zero exit is a result, not an exception. */
export function openssl(args: string[]): Promise<OpensslResult> {
  return new Promise((resolve) => {
    execFile("openssl", args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}` });
    });
  });
}

/** withTempDir runs `fn` with a fresh directory and a writer for files in it, then removes it. */
export async function withTempDir<T>(
  fn: (write: (name: string, content: string) => Promise<string>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "meshid-pki-"));
  try {
    return await fn(async (name, content) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** firstPem returns the first PEM block of a bundle (the leaf of a tls.crt). */
export function firstPem(bundle: string): string {
  const end = "-----END CERTIFICATE-----";
  return `${bundle.slice(0, bundle.indexOf(end))}${end}\n`;
}

/**
 * verify runs `openssl verify -CAfile root -untrusted intermediates [-purpose p] leaf`, with the
 * verification time pinned when `at` is given (the tests' `now`).
 */
export function verify(opts: {
  rootPem: string;
  intermediatesPem: string;
  leafPem: string;
  purpose?: "sslserver" | "sslclient";
  at?: Date;
}): Promise<OpensslResult> {
  return withTempDir(async (write) => {
    const root = await write("root.pem", opts.rootPem);
    const untrusted = await write("intermediate.pem", opts.intermediatesPem);
    const leaf = await write("leaf.pem", opts.leafPem);
    const args = ["verify", "-CAfile", root, "-untrusted", untrusted];
    if (opts.purpose) args.push("-purpose", opts.purpose);
    if (opts.at) args.push("-attime", String(Math.floor(opts.at.getTime() / 1000)));
    return openssl([...args, leaf]);
  });
}

/** x509Text is `openssl x509 -noout -text` of a certificate. */
export async function x509Text(certPem: string): Promise<string> {
  return withTempDir(async (write) => {
    const result = await openssl(["x509", "-noout", "-text", "-in", await write("c.pem", certPem)]);
    if (!result.ok) throw new Error(`openssl x509 failed: ${result.output}`);
    return result.output;
  });
}

/**
 * stubCsr makes a key with `openssl genpkey <args>` and an empty PKCS#10 request over it, as
 * kubelet does for a pod certificate: the request (base64 DER) and the public key (SPKI PEM).
 */
export async function stubCsr(
  genpkey: string[],
): Promise<{ csrB64: string; publicKeyPem: string }> {
  return withTempDir(async (write) => {
    const key = await write("k.pem", "");
    const gen = await openssl(["genpkey", ...genpkey, "-out", key]);
    if (!gen.ok) throw new Error(gen.output);
    const der = key.replace(/k\.pem$/, "r.der");
    const req = await openssl([
      "req",
      "-new",
      "-key",
      key,
      "-subj",
      "/",
      "-outform",
      "DER",
      "-out",
      der,
    ]);
    if (!req.ok) throw new Error(req.output);
    const pub = await openssl(["pkey", "-in", key, "-pubout"]);
    if (!pub.ok) throw new Error(pub.output);
    return { csrB64: (await readFile(der)).toString("base64"), publicKeyPem: pub.output };
  });
}
