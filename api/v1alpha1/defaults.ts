/**
 * Defaults of the MeshIdentity spec, applied by the operator (not by the API server, so stored
 * objects stay exactly as their authors wrote them, which keeps GitOps diffs clean). The schema's
 * descriptions state the same defaults.
 */
import { formatDuration, parseDuration } from "./duration";
import { DurationError, SpecError } from "./errors";
import { MAX_DURATION, MIN_DURATION, MIN_RENEW_BEFORE } from "./limits";
import {
  type Delivery,
  KEY_SIZES,
  type KeyUsage,
  type LabelSelector,
  type MeshIdentitySpec,
  type RotationPolicy,
} from "./types";

/** DEFAULT_DURATION is the certificate lifetime when a spec sets none. */
export const DEFAULT_DURATION = "24h";

/** DEFAULT_USAGES are the usages when a spec sets none: a certificate for both ends of mTLS. */
export const DEFAULT_USAGES: readonly KeyUsage[] = ["server auth", "client auth"];

/** DEFAULT_ROTATION_POLICY generates a new private key at every renewal. */
export const DEFAULT_ROTATION_POLICY: RotationPolicy = "Always";

/** DEFAULT_DELIVERY delivers certificates in Secrets, which works on every Kubernetes version. */
export const DEFAULT_DELIVERY: Delivery = "Secret";

/** KeySize is a size allowed for the given algorithm, e.g. `KeySize<"RSA">` is 2048 | 3072 | 4096. */
export type KeySize<A extends keyof typeof KEY_SIZES> = (typeof KEY_SIZES)[A][number];

/** ResolvedPrivateKey is a fully specified private key; only ECDSA and RSA have a size. */
export type ResolvedPrivateKey =
  | { algorithm: "ECDSA"; size: KeySize<"ECDSA">; rotationPolicy: RotationPolicy }
  | { algorithm: "RSA"; size: KeySize<"RSA">; rotationPolicy: RotationPolicy }
  | { algorithm: "Ed25519"; rotationPolicy: RotationPolicy };

/** ResolvedSpec is a MeshIdentitySpec with every default applied and durations in milliseconds. */
export interface ResolvedSpec {
  /** selector as written. */
  selector: LabelSelector;
  /** serviceAccountName, or undefined when pods of any service account qualify. */
  serviceAccountName: string | undefined;
  /** dnsNames are the DNS name templates, duplicates removed, in the order written. */
  dnsNames: string[];
  /** includePodIP adds the pod IP as an IP SAN. */
  includePodIP: boolean;
  /** durationMs is the certificate lifetime. */
  durationMs: number;
  /** renewBeforeMs is how long before expiry renewal is due; always less than durationMs. */
  renewBeforeMs: number;
  /** privateKey is the key algorithm, size and rotation policy. */
  privateKey: ResolvedPrivateKey;
  /** usages, duplicates removed, in the order written. */
  usages: KeyUsage[];
  /** secretTemplate labels and annotations (empty maps when unset). */
  secretTemplate: { labels: Record<string, string>; annotations: Record<string, string> };
  /** delivery is Secret unless the spec asks for PodCertificate. */
  delivery: Delivery;
}

/** ResolveOptions carries the operator's configuration that defaults depend on. */
export interface ResolveOptions {
  /** defaultDurationMs replaces DEFAULT_DURATION (the operator's `default duration` setting). */
  defaultDurationMs?: number;
}

/**
 * resolveSpec applies every default to a spec: duration 24h (or the configured default),
 * renewBefore one third of the duration rounded down to whole seconds, ECDSA P-256 (RSA 2048 when
 * only the algorithm is given), rotationPolicy Always, usages server auth and client auth,
 * includePodIP false, no DNS names, empty secretTemplate. Throws SpecError, naming the field, for
 * what the API server should already have refused and for a renewBefore that is not below a
 * configured default duration (which the schema cannot know).
 */
export function resolveSpec(spec: MeshIdentitySpec, options: ResolveOptions = {}): ResolvedSpec {
  const durationMs =
    spec.duration !== undefined
      ? parseField("spec.duration", spec.duration)
      : (options.defaultDurationMs ?? parseDuration(DEFAULT_DURATION));
  if (durationMs < parseDuration(MIN_DURATION) || durationMs > parseDuration(MAX_DURATION)) {
    throw new SpecError(
      "spec.duration",
      `${formatDuration(durationMs)} is not between ${MIN_DURATION} and ${MAX_DURATION}`,
    );
  }
  const renewBeforeMs =
    spec.renewBefore !== undefined
      ? parseField("spec.renewBefore", spec.renewBefore)
      : Math.floor(durationMs / 3 / 1000) * 1000;
  if (spec.renewBefore !== undefined && renewBeforeMs < parseDuration(MIN_RENEW_BEFORE)) {
    throw new SpecError("spec.renewBefore", `must be at least ${MIN_RENEW_BEFORE}`);
  }
  if (renewBeforeMs >= durationMs) {
    throw new SpecError(
      "spec.renewBefore",
      `${formatDuration(renewBeforeMs)} must be less than the duration ${formatDuration(durationMs)}`,
    );
  }
  return {
    selector: spec.selector,
    serviceAccountName: spec.serviceAccountName,
    dnsNames: unique(spec.dnsNames ?? []),
    includePodIP: spec.includePodIP ?? false,
    durationMs,
    renewBeforeMs,
    privateKey: resolvePrivateKey(spec.privateKey ?? {}),
    usages: unique(spec.usages && spec.usages.length > 0 ? spec.usages : DEFAULT_USAGES),
    secretTemplate: {
      labels: { ...spec.secretTemplate?.labels },
      annotations: { ...spec.secretTemplate?.annotations },
    },
    delivery: spec.delivery ?? DEFAULT_DELIVERY,
  };
}

function resolvePrivateKey(key: NonNullable<MeshIdentitySpec["privateKey"]>): ResolvedPrivateKey {
  const rotationPolicy = key.rotationPolicy ?? DEFAULT_ROTATION_POLICY;
  const algorithm = key.algorithm ?? "ECDSA";
  if (algorithm === "Ed25519") {
    if (key.size !== undefined) {
      throw new SpecError("spec.privateKey.size", "must not be set for Ed25519 keys");
    }
    return { algorithm, rotationPolicy };
  }
  const sizes: readonly number[] = KEY_SIZES[algorithm];
  const size = key.size ?? sizes[0];
  if (size === undefined || !sizes.includes(size)) {
    throw new SpecError(
      "spec.privateKey.size",
      `${algorithm} keys have size ${sizes.join(", ")}, not ${String(key.size)}`,
    );
  }
  return algorithm === "ECDSA"
    ? { algorithm, size: size as KeySize<"ECDSA">, rotationPolicy }
    : { algorithm, size: size as KeySize<"RSA">, rotationPolicy };
}

function parseField(field: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof DurationError) throw new SpecError(field, err.message);
    throw err;
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
