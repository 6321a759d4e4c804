/**
 * Gathering what an issued Secret holds: its certificate parsed, whether the key matches, and the
 * annotations recording what it was built from. Parsing is cached by the Secret's uid and
 * resourceVersion, so a resync of thousands of unchanged Secrets parses none of them again.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { ExistingCertificate, KeySettings } from "../policy/issuance";
import { annotations } from "../policy/naming";
import { inspectCertificate, keyMatchesCertificate, type KeySpec } from "../pki";

/** GatheredCertificate is ExistingCertificate plus what key reuse needs. */
export interface GatheredCertificate extends ExistingCertificate {
  keyPem?: string;
  keySpec?: KeySpec;
  /** keySpecMatches reports whether the stored key has the algorithm and size wanted. */
  keySpecMatches(want: KeySettings): boolean;
}

/** ExistingCache memoises gathered Secrets by uid@resourceVersion. */
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

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return v ? Buffer.from(v, "base64").toString("utf8") : undefined;
}

function date(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** gatherExisting reads an issued Secret; a Secret that cannot be parsed is `readable: false`. */
export function gatherExisting(secret: V1Secret, cache: ExistingCache): GatheredCertificate {
  const id = `${secret.metadata?.uid ?? ""}@${secret.metadata?.resourceVersion ?? ""}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const ann = secret.metadata?.annotations ?? {};
  const crt = decode(secret.data, "tls.crt");
  const key = decode(secret.data, "tls.key");
  let gathered: GatheredCertificate;
  try {
    if (!crt || !key) throw new Error("tls.crt or tls.key missing");
    const info = inspectCertificate(crt);
    gathered = {
      readable: true,
      keyMatches: keyMatchesCertificate(crt, key),
      issuerFingerprint: info.issuerFingerprint,
      specHash: ann[annotations.specHash],
      podUid: ann[annotations.podUid],
      notAfter: info.notAfter,
      renewAt: date(ann[annotations.renewAt]),
      keyPem: key,
      keySpec: info.keySpec,
      keySpecMatches: (want) =>
        info.keySpec.algorithm === want.algorithm &&
        (want.algorithm === "Ed25519" || info.keySpec.size === want.size),
    };
  } catch {
    gathered = { readable: false, keyMatches: false, keySpecMatches: () => false };
  }
  if (secret.metadata?.uid && secret.metadata.resourceVersion) cache.set(id, gathered);
  return gathered;
}

/**
 * recordedCertificate reads what an issued Secret records in its annotations, without parsing the
 * certificate or the key. Counting a MeshIdentity's pods uses it: it runs for every pod at every
 * recount, and the pod reconcile, which parses, is the one that replaces a damaged Secret.
 */
export function recordedCertificate(secret: V1Secret): ExistingCertificate {
  const ann = secret.metadata?.annotations ?? {};
  const notAfter = date(ann[annotations.notAfter]);
  return {
    readable: Boolean(secret.data?.["tls.crt"] && secret.data["tls.key"] && notAfter),
    keyMatches: true,
    issuerFingerprint: ann[annotations.issuer],
    specHash: ann[annotations.specHash],
    podUid: ann[annotations.podUid],
    ...(notAfter ? { notAfter } : {}),
    ...(date(ann[annotations.renewAt]) ? { renewAt: date(ann[annotations.renewAt]) } : {}),
  };
}
