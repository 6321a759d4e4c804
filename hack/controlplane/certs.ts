/**
 * Certificates for the local control plane, made fresh for every start: a serving CA and the
 * API server's serving certificate, a client CA and an admin client certificate in
 * `system:masters`, and the service-account signing key pair. These are test-bed credentials
 * only; the operator's own CA lives in operator/pki/.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const day = 24 * 60 * 60 * 1000;

/** PemPair is a certificate and its PKCS#8 private key, both PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** ControlPlaneCerts is every credential the control plane's processes and clients need. */
export interface ControlPlaneCerts {
  servingCa: PemPair;
  serving: PemPair;
  clientCa: PemPair;
  admin: PemPair;
  serviceAccount: { publicKey: string; privateKey: string };
  /** Client certificates of the node's components, when the control plane has a node. */
  node?: NodeCerts;
}

/**
 * NodeCerts are the client certificates of the node's components, signed by the client CA:
 * kubelet's node identity (checked by the Node authorizer and NodeRestriction), the API server's
 * certificate for the kubelet API, and the scheduler's and kube-proxy's users, which the API
 * server's bootstrap RBAC policy binds to their roles.
 */
export interface NodeCerts {
  kubelet: PemPair;
  apiserverKubeletClient: PemPair;
  scheduler: PemPair;
  proxy: PemPair;
}

/** CertOptions adds what a control plane with a node needs. */
export interface CertOptions {
  /** Extra IP SANs of the API server's serving certificate (node IP, the `kubernetes` Service IP). */
  ips?: string[];
  /** Extra DNS SANs of the API server's serving certificate. */
  dnsNames?: string[];
  /** The node's name: makes NodeCerts for it. */
  nodeName?: string;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function makeCa(
  name: string,
): Promise<{ pair: PemPair; cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * day),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    pair: { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) },
    cert,
    keys,
  };
}

async function makeLeaf(
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  subject: string,
  usage: "server" | "client",
  sans: { ips: string[]; dnsNames: string[] } = { ips: [], dnsNames: [] },
): Promise<PemPair> {
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (usage === "server") {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        ...sans.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...sans.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * day),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: alg,
    extensions,
  });
  return { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) };
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive and non-zero
  return Buffer.from(bytes).toString("hex");
}

/** makeControlPlaneCerts creates a fresh set of control-plane credentials. */
export async function makeControlPlaneCerts(opts: CertOptions = {}): Promise<ControlPlaneCerts> {
  const servingCa = await makeCa("meshid-testbed-serving-ca");
  const clientCa = await makeCa("meshid-testbed-client-ca");
  const serving = await makeLeaf(servingCa, "CN=kube-apiserver", "server", {
    ips: opts.ips ?? [],
    dnsNames: opts.dnsNames ?? [],
  });
  const admin = await makeLeaf(clientCa, "CN=meshid-admin, O=system:masters", "client");
  const sa = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const saPublic = await crypto.subtle.exportKey("spki", sa.publicKey);
  const client = (subject: string) => makeLeaf(clientCa, subject, "client");
  const node: NodeCerts | undefined = opts.nodeName
    ? {
        kubelet: await client(`CN=system:node:${opts.nodeName}, O=system:nodes`),
        apiserverKubeletClient: await client(
          "CN=meshid-apiserver-kubelet-client, O=system:masters",
        ),
        scheduler: await client("CN=system:kube-scheduler"),
        proxy: await client("CN=system:kube-proxy"),
      }
    : undefined;
  return {
    ...(node ? { node } : {}),
    servingCa: servingCa.pair,
    serving,
    clientCa: clientCa.pair,
    admin,
    serviceAccount: {
      publicKey: x509.PemConverter.encode(saPublic, "PUBLIC KEY"),
      privateKey: await exportKey(sa.privateKey),
    },
  };
}

/**
 * signClientCertificate issues a client certificate from a CA given as PEM (the control plane's
 * client CA in pki/client-ca.{crt,key}), e.g. a node identity `CN=system:node:<name>, O=system:nodes`.
 */
export async function signClientCertificate(ca: PemPair, subject: string): Promise<PemPair> {
  const cert = new x509.X509Certificate(ca.cert);
  const der = x509.PemConverter.decode(ca.key)[0]!;
  const privateKey = await crypto.subtle.importKey("pkcs8", der, alg, true, ["sign"]);
  const publicKey = await cert.publicKey.export(alg, ["verify"], crypto);
  return makeLeaf({ cert, keys: { privateKey, publicKey } }, subject, "client");
}
