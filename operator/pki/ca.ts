/**
 * bootstrapCa creates meshid's own CA with pkijs: a self-signed root and an intermediate that
 * signs leaves. The intermediate is fenced in so that even if its key leaks it cannot mint
 * identities outside the cluster's: pathLen 0 (no CA below it) and name constraints permitting
 * only the trust domain's SPIFFE IDs and the cluster's DNS domains.
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
import { createSigner } from "./signer";

/** BootstrapCaOptions configure a new CA; `now` is the issuing time (the clock is an input). */
export interface BootstrapCaOptions {
  /** trustDomain is the host of every SPIFFE ID the CA may sign, e.g. "cluster.local". */
  trustDomain: string;
  /** clusterDomain is permitted as a DNS subtree, e.g. "cluster.local". */
  clusterDomain: string;
  /** dnsSuffixes are further permitted DNS subtrees, e.g. "svc" for "<service>.<ns>.svc". */
  dnsSuffixes: readonly string[];
  now: Date;
  /** rootKey defaults to ECDSA P-384. */
  rootKey?: KeySpec;
  /** intermediateKey defaults to ECDSA P-256, so leaves are signed with the fastest curve. */
  intermediateKey?: KeySpec;
  /** rootValidityDays defaults to 3650. */
  rootValidityDays?: number;
  /** intermediateValidityDays defaults to 365, capped at the root's notAfter. */
  intermediateValidityDays?: number;
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
  const { trustDomain, clusterDomain } = opts;
  const suffixes = opts.dnsSuffixes.map((s) => s.toLowerCase());
  checkConfig(opts, suffixes);
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
    new Date(opts.now.getTime() + (opts.rootValidityDays ?? 3650) * dayMs),
  );
  const intermediateNotAfter = wholeSeconds(
    new Date(
      Math.min(
        rootNotAfter.getTime(),
        opts.now.getTime() + (opts.intermediateValidityDays ?? 365) * dayMs,
      ),
    ),
  );

  const rootName = caName(trustDomain, "meshid root CA");
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

  const intermediateSpki = spkiOf(intermediateKey);
  const intermediateDer = await buildCertificate(
    {
      serial: randomSerial(),
      issuerName: rootName,
      subjectName: caName(trustDomain, "meshid intermediate CA"),
      notBefore,
      notAfter: intermediateNotAfter,
      publicKey: intermediateSpki,
      extensions: [
        basicConstraints(true, 0),
        keyUsage(KeyUsageBit.keyCertSign | KeyUsageBit.cRLSign),
        subjectKeyIdentifier(keyIdentifier(intermediateSpki)),
        authorityKeyIdentifier(rootKeyId),
        nameConstraints({
          uriHosts: [trustDomain],
          dnsDomains: unique([clusterDomain, ...suffixes]),
        }),
      ],
    },
    rootSigner,
  );

  return {
    root: { certPem: derToPem(rootDer), keyPem: rootKey.privateKeyPem },
    intermediate: { certPem: derToPem(intermediateDer), keyPem: intermediateKey.privateKeyPem },
  };
}

function checkConfig(opts: BootstrapCaOptions, suffixes: readonly string[]): void {
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
  for (const [name, days] of [
    ["rootValidityDays", opts.rootValidityDays],
    ["intermediateValidityDays", opts.intermediateValidityDays],
  ] as const) {
    if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
      throw new InvalidCaConfigError(
        `${name} must be a positive whole number of days, not ${days}.`,
      );
    }
  }
  if (Number.isNaN(opts.now.getTime())) throw new InvalidCaConfigError("now is not a valid date.");
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
