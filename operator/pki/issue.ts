/**
 * issueLeaf signs a workload certificate with pkijs, shaped as SPIFFE X.509-SVIDs are: empty
 * subject, the SPIFFE ID as URI SAN in a critical subjectAltName, CA:FALSE, digitalSignature.
 */
import type * as pkijs from "pkijs";
import {
  buildCertificateParts,
  CLOCK_SKEW_MS,
  encodeName,
  publicKeyInfo,
  randomSerial,
  wholeSeconds,
} from "./cert-builder";
import {
  CaExpiredError,
  CaNotYetValidError,
  InvalidLeafRequestError,
  NameConstraintViolationError,
} from "./errors";
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyIdentifier,
  KeyUsageBit,
  keyUsage,
  type SanEntry,
  subjectAltName,
  subjectKeyIdentifier,
} from "./extensions";
import { ipToBytes } from "./ip";
import { assertStrongKey, describePublicKey } from "./keys";
import { nameConstraintViolation } from "./name-constraints";
import { isDnsName, spiffeIdProblem } from "./names";
import { derToPem } from "./pem";
import { issuerStateOf, type SigningCa } from "./signing-ca";
import {
  fastKeyIdentifier,
  makeLeafTemplate,
  signFromTemplate,
  spkiShape,
  timeShape,
  type LeafTemplate,
} from "./leaf-template";
import { extKeyUsageOids, isUsage, type Usage } from "./usages";

/** LeafRequest is what a leaf certificate certifies; `now` is the issuing time. */
export interface LeafRequest {
  /** publicKeyPem is the leaf's SPKI public key: ECDSA P-256/P-384, RSA >= 2048 or Ed25519. */
  publicKeyPem: string;
  spiffeId: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: Usage[];
  durationMs: number;
  now: Date;
  /** backdateMs moves notBefore back for clock skew; default CLOCK_SKEW_MS. */
  backdateMs?: number;
}

/** IssuedLeaf is a signed leaf, ready for a kubernetes.io/tls Secret's tls.crt. */
export interface IssuedLeaf {
  /** certChainPem is the leaf followed by the CA's chainPem (no root). */
  certChainPem: string;
  /** serialHex is the serial number as lower-case hex. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** issuerFingerprint is the SigningCa's fingerprint, recorded so rotation can find its leaves. */
  issuerFingerprint: string;
}

const emptyName = encodeName([]);

/**
 * issueLeaf validates the request, then signs. notBefore is backdated by CLOCK_SKEW_MS; notAfter
 * is now + durationMs, capped at the CA's notAfter. keyUsage follows the key, not `usages`:
 * digitalSignature always, keyEncipherment for RSA keys (TLS 1.2 RSA key exchange) and never for
 * EC or Ed25519 keys (RFC 8813 forbids it for EC). extendedKeyUsage lists "server auth" and
 * "client auth" when requested and is left out when neither is. SANs outside the CA's name
 * constraints are refused with NameConstraintViolationError instead of issuing a certificate no
 * verifier would accept.
 */
export async function issueLeaf(ca: SigningCa, req: LeafRequest): Promise<IssuedLeaf> {
  const issuer = issuerStateOf(ca);
  const { sans, ips } = checkRequest(req);
  const leafKey = describePublicKey(req.publicKeyPem, "the leaf public key");
  const keySpec = leafKey.spec;
  assertStrongKey(keySpec, "the leaf public key");

  const now = req.now.getTime();
  if (now < ca.notBefore.getTime()) {
    throw new CaNotYetValidError(
      `The signing CA "${ca.subject}" is not valid before ${ca.notBefore.toISOString()}; check the clocks.`,
    );
  }
  if (now >= ca.notAfter.getTime()) {
    throw new CaExpiredError(
      `The signing CA "${ca.subject}" chain expired at ${ca.notAfter.toISOString()}; renew or replace the CA.`,
    );
  }
  const violation = nameConstraintViolation(issuer.nameConstraints, {
    uris: [req.spiffeId],
    dnsNames: req.dnsNames,
    ips,
  });
  if (violation !== undefined) {
    throw new NameConstraintViolationError(
      `${violation}; request only names inside the CA's constraints, or re-issue the CA with them.`,
    );
  }

  const serial = randomSerial();
  const notBefore = wholeSeconds(new Date(now - (req.backdateMs ?? CLOCK_SKEW_MS)));
  const notAfter = wholeSeconds(new Date(Math.min(now + req.durationMs, ca.notAfter.getTime())));
  const rsa = keySpec.algorithm === "RSA";
  const shape = templateShape(leafKey.spkiDer, rsa, req.usages, notBefore, notAfter);
  const template = shape === undefined ? undefined : templatesOf(ca).get(shape);
  const keyId = template ? fastKeyIdentifier(leafKey.spkiDer) : undefined;
  let der: Uint8Array;
  if (template && keyId) {
    const fields = {
      ...{ serial, notBefore, notAfter, spkiDer: leafKey.spkiDer, keyId },
      subjectAltName: subjectAltNameDer(sans),
    };
    der = signFromTemplate(template, fields, (tbs) => issuer.signer.signNative(tbs));
  } else {
    const spki = publicKeyInfo(leafKey.spkiDer);
    const fixed = fixedExtensions(ca, rsa, req.usages);
    const subjectKeyId = keyIdentifier(spki);
    const built = await buildCertificateParts(
      {
        serial,
        issuerName: issuer.subjectName,
        subjectName: emptyName,
        notBefore,
        notAfter,
        publicKey: spki,
        extensions: [
          ...fixed.head,
          subjectKeyIdentifier(subjectKeyId),
          fixed.authorityKeyId,
          // Last: a template replaces it for each leaf (leaf-template.ts).
          subjectAltName(sans, true),
        ],
      },
      issuer.signer,
    );
    der = built.der;
    if (shape !== undefined) {
      const fields = {
        ...{ serial, notBefore, notAfter, spkiDer: leafKey.spkiDer, keyId: subjectKeyId },
        subjectAltName: subjectAltNameDer(sans),
      };
      const made = makeLeafTemplate(built.tbs, built.signatureAlgorithm, fields);
      // A shape whose fields could not be located unambiguously is remembered as such.
      rememberTemplate(ca, shape, made ?? null);
    }
  }
  return {
    certChainPem: derToPem(der) + ca.chainPem,
    serialHex: Buffer.from(serial).toString("hex"),
    notBefore,
    notAfter,
    issuerFingerprint: ca.fingerprint,
  };
}

/** maxTemplatesPerCa bounds the templates kept per CA (one per key type, usages and time form). */
const maxTemplatesPerCa = 64;
const templateCache = new WeakMap<SigningCa, Map<string, LeafTemplate | null>>();

function templatesOf(ca: SigningCa): Map<string, LeafTemplate | null> {
  let perCa = templateCache.get(ca);
  if (perCa === undefined) {
    perCa = new Map();
    templateCache.set(ca, perCa);
  }
  return perCa;
}

function rememberTemplate(ca: SigningCa, shape: string, template: LeafTemplate | null): void {
  const perCa = templatesOf(ca);
  if (perCa.size >= maxTemplatesPerCa) {
    const oldest = perCa.keys().next().value;
    if (oldest !== undefined) perCa.delete(oldest);
  }
  perCa.set(shape, template);
}

/**
 * templateShape names everything of a leaf but its per-leaf fields (see leaf-template.ts): two
 * leaves of one shape have the same TBSCertificate bytes outside those fields. The issuer is the
 * per-CA cache the shape is looked up in.
 */
function templateShape(
  spkiDer: Uint8Array,
  rsa: boolean,
  usages: readonly Usage[],
  notBefore: Date,
  notAfter: Date,
): string | undefined {
  const key = spkiShape(spkiDer);
  if (key === undefined) return undefined;
  const purposes = [...new Set(usages.flatMap((u) => extKeyUsageOids[u] ?? []))].sort();
  return `${key}|${rsa}|${purposes.join(",")}|${timeShape(notBefore, notAfter)}`;
}

/** sanCache keeps the DER of recent SAN sets: pods of one workload often share theirs. */
const sanCache = new Map<string, Uint8Array>();
const maxSanCache = 256;

/** subjectAltNameDer is the DER of the critical subjectAltName extension, encoded by pkijs. */
function subjectAltNameDer(sans: readonly SanEntry[]): Uint8Array {
  const key = JSON.stringify(
    sans.map((e) =>
      e.type === "ip" ? [e.type, Buffer.from(e.value).toString("hex")] : [e.type, e.value],
    ),
  );
  let der = sanCache.get(key);
  if (der === undefined) {
    der = new Uint8Array(subjectAltName(sans, true).toSchema().toBER(false));
    if (sanCache.size >= maxSanCache) {
      const oldest = sanCache.keys().next().value;
      if (oldest !== undefined) sanCache.delete(oldest);
    }
    sanCache.set(key, der);
  }
  return der;
}

type FixedExtensions = { head: pkijs.Extension[]; authorityKeyId: pkijs.Extension };
const fixedCache = new WeakMap<SigningCa, Map<string, FixedExtensions>>();

/**
 * fixedExtensions are the extensions that depend only on the CA, the key type and the usages.
 * They are built once and shared: encoding never mutates them, and building them is a fifth of
 * the cost of a leaf.
 */
function fixedExtensions(ca: SigningCa, rsa: boolean, usages: readonly Usage[]): FixedExtensions {
  const purposes = [...new Set(usages.flatMap((u) => extKeyUsageOids[u] ?? []))].sort();
  const cacheKey = `${rsa}|${purposes.join(",")}`;
  const perCa = fixedCache.get(ca) ?? new Map<string, FixedExtensions>();
  fixedCache.set(ca, perCa);
  let fixed = perCa.get(cacheKey);
  if (fixed === undefined) {
    const bits = KeyUsageBit.digitalSignature | (rsa ? KeyUsageBit.keyEncipherment : 0);
    fixed = {
      head: [
        basicConstraints(false),
        keyUsage(bits),
        ...(purposes.length > 0 ? [extKeyUsage(purposes)] : []),
      ],
      authorityKeyId: authorityKeyIdentifier(issuerStateOf(ca).keyId),
    };
    perCa.set(cacheKey, fixed);
  }
  return fixed;
}

function checkRequest(req: LeafRequest): { sans: SanEntry[]; ips: Uint8Array[] } {
  const problem = spiffeIdProblem(req.spiffeId);
  if (problem !== undefined) {
    throw new InvalidLeafRequestError(`SPIFFE ID "${req.spiffeId}" is malformed: ${problem}.`);
  }
  for (const name of req.dnsNames) {
    if (!isDnsName(name))
      throw new InvalidLeafRequestError(`DNS name "${name}" is not a valid host name.`);
  }
  const ips = req.ipAddresses.map((text) => {
    const bytes = ipToBytes(text);
    if (bytes === undefined)
      throw new InvalidLeafRequestError(`"${text}" is not an IPv4 or IPv6 address.`);
    return bytes;
  });
  for (const usage of req.usages) {
    if (!isUsage(usage)) {
      throw new InvalidLeafRequestError(
        `Usage "${String(usage)}" is not supported; use server auth, client auth, digital signature or key encipherment.`,
      );
    }
  }
  if (!Number.isFinite(req.durationMs) || req.durationMs <= 0) {
    throw new InvalidLeafRequestError(
      `Duration ${req.durationMs} ms is not a positive number of milliseconds.`,
    );
  }
  if (Number.isNaN(req.now.getTime()))
    throw new InvalidLeafRequestError("now is not a valid date.");
  const sans: SanEntry[] = [
    { type: "uri", value: req.spiffeId },
    ...req.dnsNames.map((value): SanEntry => ({ type: "dns", value })),
    ...ips.map((value): SanEntry => ({ type: "ip", value })),
  ];
  return { sans, ips };
}
