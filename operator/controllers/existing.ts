/**
 * Gathering what an issued Secret holds, verified: the leaf's chain to the CAs meshid trusts, its
 * contents, whether tls.key matches, the pod it is bound to, and the recorded renewal time. Work
 * is cached by the Secret's uid and resourceVersion and the CA's fingerprint, so each version of
 * each Secret is parsed and verified once; the pod reconcile seeds the cache with what it has just
 * written (the resourceVersion the API server returned for its own write), so a fresh Secret is
 * never parsed at all. Any other version — another writer's edit, a restart — has no verdict and
 * is read whole and verified by signature: the informer caches Secrets without their data.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { ExistingCertificate } from "../policy/issuance";
import { podOwnerUid } from "../policy/binding";
import { annotations } from "../policy/naming";
import { isSlim, secretText } from "../kube/objects";
import { canonicalIp, CLOCK_SKEW_MS, type SigningCa, verifyStoredCertificate } from "../pki";

/**
 * GatheredCertificate is ExistingCertificate plus the stored key, for key reuse, and the
 * fingerprint of the CA certificate that verified the leaf's signature, for the CA's inventory.
 */
export interface GatheredCertificate extends ExistingCertificate {
  keyPem?: string;
  issuerFingerprint?: string;
}

/** ExistingCache memoises gathered Secrets by uid@resourceVersion@CA fingerprint. */
export class ExistingCache {
  private readonly entries = new Map<string, GatheredCertificate>();

  constructor(private readonly max = 50_000) {}

  get(id: string): GatheredCertificate | undefined {
    return this.entries.get(id);
  }

  set(id: string, value: GatheredCertificate): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, value);
  }
}

/** cacheId names one version of one Secret as judged under one CA. */
export function cacheId(secret: V1Secret, ca: SigningCa): string | undefined {
  const { uid, resourceVersion } = secret.metadata ?? {};
  return uid && resourceVersion ? `${uid}@${resourceVersion}@${ca.fingerprint}` : undefined;
}

function date(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** gatherExisting verifies an issued Secret; one that cannot be parsed is `readable: false`. */
export function gatherExisting(
  secret: V1Secret,
  ca: SigningCa,
  cache: ExistingCache,
): GatheredCertificate {
  const id = cacheId(secret, ca);
  const hit = id ? cache.get(id) : undefined;
  if (hit) return hit;
  // A cached copy lacks tls.crt whatever the Secret holds: judging it would call every Secret
  // unreadable. Callers holding one use knownExisting, or read the Secret whole.
  if (isSlim(secret))
    throw new TypeError("gatherExisting needs the whole Secret, not a cached copy");
  const ann = secret.metadata?.annotations ?? {};
  const crt = secretText(secret.data, "tls.crt");
  const key = secretText(secret.data, "tls.key");
  const owner = podOwnerUid(secret);
  const bound = {
    ...(owner ? { ownerUid: owner } : {}),
    ...(ann[annotations.podUid] ? { recordedPodUid: ann[annotations.podUid] } : {}),
  };
  const verified =
    crt && key ? verifyStoredCertificate(crt, key, ca) : { readable: false as const };
  let gathered: GatheredCertificate;
  if (!verified.readable) {
    gathered = { readable: false, keyMatches: false, ...bound };
  } else {
    const { info } = verified;
    const renewAt = date(ann[annotations.renewAt]);
    const renewedFor = date(ann[annotations.renewedFor]);
    gathered = {
      readable: true,
      keyMatches: verified.keyMatches,
      chain: verified.chain,
      ...(verified.issuerFingerprint ? { issuerFingerprint: verified.issuerFingerprint } : {}),
      ...bound,
      contents: {
        uris: info.uris,
        dnsNames: info.dnsNames,
        ipAddresses: info.ipAddresses,
        extKeyUsages: info.extKeyUsages,
        key: {
          algorithm: info.keySpec.algorithm,
          ...(info.keySpec.size ? { size: info.keySpec.size } : {}),
        },
      },
      issuedAt: new Date(info.notBefore.getTime() + CLOCK_SKEW_MS),
      notAfter: info.notAfter,
      ...(renewAt ? { renewAt } : {}),
      ...(renewedFor ? { renewedFor } : {}),
      ...(key ? { keyPem: key } : {}),
    };
  }
  if (id) cache.set(id, gathered);
  return gathered;
}

/**
 * knownExisting is the remembered verdict on this version of a Secret, or, for a whole Secret
 * (read or written directly), the verdict gathered now; undefined for a cached copy without a
 * verdict: only the whole Secret can tell.
 */
export function knownExisting(
  secret: V1Secret,
  ca: SigningCa,
  cache: ExistingCache,
): GatheredCertificate | undefined {
  const id = cacheId(secret, ca);
  const hit = id ? cache.get(id) : undefined;
  if (hit) return hit;
  return isSlim(secret) ? undefined : gatherExisting(secret, ca, cache);
}

/** canonicalIps puts IP addresses in the text form certificates are compared in. */
export function canonicalIps(ips: readonly string[]): string[] {
  return ips.map((ip) => canonicalIp(ip) ?? ip);
}
