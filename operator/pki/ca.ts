/**
 * bootstrapCa creates meshid's own CA with pkijs: a self-signed root and an intermediate that
 * signs leaves; signIntermediate signs a successor intermediate with an existing root, so the
 * intermediate is renewed while the trust bundle (the roots) stays as it is. An intermediate is
 * fenced in so that even if its key leaks it cannot mint identities outside the cluster's:
 * pathLen 0 (no CA below it) and name constraints permitting only the trust domain's SPIFFE IDs
 * and the cluster's DNS domains.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import {
  buildCertificate,
  CLOCK_SKEW_MS,
  encodeName,
  NameOid,
  publicKeyInfo,
  randomSerial,
  wholeSeconds,
} from "./cert-builder";
import { InvalidCaConfigError } from "./errors";
import {
  authorityKeyIdentifier,
  basicConstraints,
  keyIdentifier,
  KeyUsageBit,
  keyUsage,
  nameConstraints,
  subjectKeyIdentifier,
} from "./extensions";
import { generateKey, type GeneratedKey, type KeySpec, normalizeKeySpec } from "./keys";
import { isDnsName, isTrustDomain } from "./names";
import { derToPem } from "./pem";
import { createSigner, type Signer } from "./signer";
import { issuerStateOf, type SigningCa } from "./signing-ca";

/** IntermediateOptions configure an intermediate; `now` is the issuing time (an input). */
export interface IntermediateOptions {
  /** trustDomain is the host of every SPIFFE ID the CA may sign, e.g. "cluster.local". */
  trustDomain: string;
  /** clusterDomain is permitted as a DNS subtree, e.g. "cluster.local". */
  clusterDomain: string;
  /** dnsSuffixes are further permitted DNS subtrees, e.g. "svc" for "<service>.<ns>.svc". */
  dnsSuffixes: readonly string[];
  now: Date;
  /** intermediateKey defaults to ECDSA P-256, so leaves are signed with the fastest curve. */
  intermediateKey?: KeySpec;
  /** intermediateValidityMs defaults to 365 days, capped at the root's notAfter. */
  intermediateValidityMs?: number;
}

/** BootstrapCaOptions configure a new CA: its root and first intermediate. */
export interface BootstrapCaOptions extends IntermediateOptions {
  /** rootKey defaults to ECDSA P-384. */
  rootKey?: KeySpec;
  /** rootValidityMs defaults to 3650 days. */
  rootValidityMs?: number;
  /**
   * rootCommonName defaults to "meshid root CA". A rotation names its next root apart, so both
   * roots of a bundle are told apart by subject as well as by key.
   */
  rootCommonName?: string;
}

/** CaCredentials are a CA certificate and its PKCS#8 private key, both PEM. */
export interface CaCredentials {
  certPem: string;
  keyPem: string;
}

/** BootstrappedCa is a new root and the intermediate it signed. */
export interface BootstrappedCa {
  root: CaCredentials;
  intermediate: CaCredentials;
}

const dayMs = 24 * 60 * 60 * 1000;

/** bootstrapCa generates both key pairs off the event loop and signs both certificates. */
export async function bootstrapCa(opts: BootstrapCaOptions): Promise<BootstrappedCa> {
  const suffixes = checkConfig(opts);
  if (opts.rootValidityMs !== undefined) checkValidity("rootValidityMs", opts.rootValidityMs);
  const rootSpec = normalizeKeySpec(opts.rootKey ?? { algorithm: "ECDSA", size: 384 });
  const intermediateSpec = normalizeKeySpec(
    opts.intermediateKey ?? { algorithm: "ECDSA", size: 256 },
  );
  const [rootKey, intermediateKey] = await Promise.all([
    generateKey(rootSpec),
    generateKey(intermediateSpec),
  ]);

  const notBefore = wholeSeconds(new Date(opts.now.getTime() - CLOCK_SKEW_MS));
  const rootNotAfter = wholeSeconds(
    new Date(opts.now.getTime() + (opts.rootValidityMs ?? 3650 * dayMs)),
  );
  const rootName = caName(opts.trustDomain, opts.rootCommonName ?? "meshid root CA");
  const rootSpki = spkiOf(rootKey);
  const rootKeyId = keyIdentifier(rootSpki);
  const rootSigner = await createSigner(createPrivateKey(rootKey.privateKeyPem), rootSpec);
  const rootDer = await buildCertificate(
    {
      serial: randomSerial(),
      issuerName: rootName,
      subjectName: rootName,
      notBefore,
      notAfter: rootNotAfter,
      publicKey: rootSpki,
      extensions: [
        basicConstraints(true),
        keyUsage(KeyUsageBit.keyCertSign | KeyUsageBit.cRLSign),
        subjectKeyIdentifier(rootKeyId),
      ],
    },
    rootSigner,
  );
  const root = { signer: rootSigner, name: rootName, keyId: rootKeyId, notAfter: rootNotAfter };
  const intermediateDer = await buildIntermediate(opts, suffixes, intermediateKey, root);
  return {
    root: { certPem: derToPem(rootDer), keyPem: rootKey.privateKeyPem },
    intermediate: { certPem: derToPem(intermediateDer), keyPem: intermediateKey.privateKeyPem },
  };
}

/**
 * signIntermediate signs a new intermediate with `root` (a root loaded by loadSigningCa from the
 * root CA Secret): a fresh key, the same fences as bootstrapCa's, notAfter capped at the root's.
 */
export async function signIntermediate(
  root: SigningCa,
  opts: IntermediateOptions,
): Promise<CaCredentials> {
  const suffixes = checkConfig(opts);
  const key = await generateKey(
    normalizeKeySpec(opts.intermediateKey ?? { algorithm: "ECDSA", size: 256 }),
  );
  const state = issuerStateOf(root);
  const der = await buildIntermediate(opts, suffixes, key, {
    signer: state.signer,
    name: state.subjectName,
    keyId: state.keyId,
    notAfter: root.notAfter,
  });
  return { certPem: derToPem(der), keyPem: key.privateKeyPem };
}

interface RootSigner {
  signer: Signer;
  name: Uint8Array;
  keyId: Uint8Array;
  notAfter: Date;
}

async function buildIntermediate(
  opts: IntermediateOptions,
  suffixes: readonly string[],
  key: GeneratedKey,
  root: RootSigner,
): Promise<Uint8Array> {
  const notAfter = wholeSeconds(
    new Date(
      Math.min(
        root.notAfter.getTime(),
        opts.now.getTime() + (opts.intermediateValidityMs ?? 365 * dayMs),
      ),
    ),
  );
  const spki = spkiOf(key);
  return buildCertificate(
    {
      serial: randomSerial(),
      issuerName: root.name,
      subjectName: caName(opts.trustDomain, "meshid intermediate CA"),
      notBefore: wholeSeconds(new Date(opts.now.getTime() - CLOCK_SKEW_MS)),
      notAfter,
      publicKey: spki,
      extensions: [
        basicConstraints(true, 0),
        keyUsage(KeyUsageBit.keyCertSign | KeyUsageBit.cRLSign),
        subjectKeyIdentifier(keyIdentifier(spki)),
        authorityKeyIdentifier(root.keyId),
        nameConstraints({
          uriHosts: [opts.trustDomain],
          dnsDomains: unique([opts.clusterDomain, ...suffixes]),
        }),
      ],
    },
    root.signer,
  );
}

/** checkConfig validates what every intermediate needs and returns the DNS suffixes, lower-case. */
function checkConfig(opts: IntermediateOptions): string[] {
  const suffixes = opts.dnsSuffixes.map((s) => s.toLowerCase());
  if (!isTrustDomain(opts.trustDomain)) {
    throw new InvalidCaConfigError(
      `Trust domain "${opts.trustDomain}" is not valid; use lower-case letters, digits, ".", "-" and "_".`,
    );
  }
  for (const domain of [opts.clusterDomain, ...suffixes]) {
    if (!isDnsName(domain.replace(/^\./, "")) || domain.startsWith("*")) {
      throw new InvalidCaConfigError(
        `DNS domain "${domain}" is not a valid domain name; use e.g. "cluster.local" or "svc".`,
      );
    }
  }
  if (opts.intermediateValidityMs !== undefined)
    checkValidity("intermediateValidityMs", opts.intermediateValidityMs);
  if (Number.isNaN(opts.now.getTime())) throw new InvalidCaConfigError("now is not a valid date.");
  return suffixes;
}

function checkValidity(name: string, ms: number): void {
  if (!(Number.isInteger(ms) && ms >= 60_000))
    throw new InvalidCaConfigError(
      `${name} must be a whole number of ms, a minute or more, not ${ms}.`,
    );
}

function caName(trustDomain: string, commonName: string): Uint8Array {
  return encodeName([
    [NameOid.organization, "meshid"],
    [NameOid.organizationalUnit, trustDomain],
    [NameOid.commonName, commonName],
  ]);
}

function spkiOf(key: GeneratedKey) {
  return publicKeyInfo(
    new Uint8Array(createPublicKey(key.publicKeyPem).export({ type: "spki", format: "der" })),
  );
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
