/**
 * Where a root rotation's state is read and written: `status.rotation` of the MeshCA (patched with
 * the resourceVersion read, so a replica that decided on stale state writes nothing) and the CA
 * Secrets (replaced with the version read; the next intermediate read and validated, never
 * replaced). Every write here is optimistic: a conflict means another writer came first.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { MESHCA_NAME, type MeshCA, type RootRotation } from "../../api/v1alpha1/meshca";
import type { Clock } from "../clock";
import type { Config } from "../config";
import { errorText, MeshIdError } from "../errors";
import type { MeshCaRotationPort, SecretPort } from "../kube/client";
import { nextCaSecretName, nextRootCaSecretName } from "../policy/naming";
import { checkCaPair, decodeCaSecretData, loadSigningCa, type SigningCa } from "../pki";

/** RotationConfig is the configuration every part of a root rotation reads. */
export type RotationConfig = Pick<Config, "namespace" | "caSecret" | "rootCaSecret" | "caMode">;

/** RotationStoreDeps are the ports the store uses. */
export interface RotationStoreDeps {
  kube: MeshCaRotationPort & SecretPort;
  clock: Clock;
  config: RotationConfig;
}

/** RotationBlockedError: the rotation cannot take its next step until a person acts. */
export class RotationBlockedError extends MeshIdError {
  constructor(message: string) {
    super("RootRotationBlocked", message, { retryable: true });
  }
}

/** nextCaRef names the Secret of the next intermediate, `namespace/name`, for messages. */
export function nextCaRef(config: RotationConfig): string {
  return `${config.namespace}/${nextCaSecretName(config.caSecret)}`;
}

/**
 * loadNextCa reads and validates the next intermediate like the current one (key matches, CA
 * flag, keyCertSign, chain to its roots, validity) and, in bootstrap mode, its pair with the
 * next root. A missing or corrupt Secret is reported, never replaced.
 */
export async function loadNextCa(deps: RotationStoreDeps): Promise<SigningCa> {
  const { kube, config, clock } = deps;
  const ns = config.namespace;
  const secret = await kube.getSecret(ns, nextCaSecretName(config.caSecret));
  if (!secret)
    throw new RotationBlockedError(
      `${nextCaRef(config)} does not exist: supply the next intermediate there (tls.crt, tls.key, and ca.crt holding its root)`,
    );
  let pems;
  try {
    pems = decodeCaSecretData(secret.data);
    const next = await loadSigningCa({ ...pems, rootsPem: pems.caPem, now: clock.now() });
    if (config.caMode === "bootstrap") {
      const rootName = nextRootCaSecretName(config.rootCaSecret);
      const root = await kube.getSecret(ns, rootName);
      if (!root) throw new RotationBlockedError(`${ns}/${rootName} does not exist`);
      checkCaPair(decodeCaSecretData(root.data), pems, {
        root: `${ns}/${rootName}`,
        intermediate: nextCaRef(config),
      });
    }
    return next;
  } catch (err) {
    throw new RotationBlockedError(`${nextCaRef(config)} is not a usable CA: ${errorText(err)}`);
  }
}

/** loadPreparedNext loads the next intermediate and checks it is the one the rotation prepared. */
export async function loadPreparedNext(
  deps: RotationStoreDeps,
  state: RootRotation,
): Promise<{ next: SigningCa; secret: V1Secret }> {
  const next = await loadNextCa(deps);
  if (next.fingerprint !== state.nextIntermediate?.fingerprint)
    throw new RotationBlockedError(
      `${nextCaRef(deps.config)} changed during rotation ${state.id}; roll the rotation back (change spec.rootRotation) and start it again`,
    );
  const { namespace, caSecret } = deps.config;
  const secret = await deps.kube.getSecret(namespace, nextCaSecretName(caSecret));
  if (!secret) throw new RotationBlockedError(`${nextCaRef(deps.config)} vanished`);
  return { next, secret };
}

/** readCaSecret reads the CA Secret; its absence blocks the rotation. */
export async function readCaSecret(deps: RotationStoreDeps): Promise<V1Secret> {
  const { namespace, caSecret } = deps.config;
  const secret = await deps.kube.getSecret(namespace, caSecret);
  if (!secret)
    throw new RotationBlockedError(`the CA Secret ${namespace}/${caSecret} does not exist`);
  return secret;
}

/** replaceSecretData writes a CA Secret's data, carrying the version read (optimistic). */
export async function replaceSecretData(
  deps: RotationStoreDeps,
  secret: V1Secret,
  data: Record<string, string>,
): Promise<void> {
  await deps.kube.replaceSecret(deps.config.namespace, {
    ...secret,
    metadata: { ...secret.metadata, managedFields: undefined },
    data,
  });
}

/** deleteSecrets deletes those of the named Secrets that exist, each by the UID read. */
export async function deleteSecrets(deps: RotationStoreDeps, names: string[]): Promise<void> {
  const ns = deps.config.namespace;
  for (const name of names) {
    const s = await deps.kube.getSecret(ns, name);
    if (s) await deps.kube.deleteSecret(ns, name, s.metadata?.uid);
  }
}

/** canonical is JSON with sorted keys: the API server returns status keys sorted. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sort(x)]),
          )
        : v;
  return JSON.stringify(sort(value) ?? null);
}

/** clearable are the fields of status.rotation a write removes when the new state lacks them. */
const clearable: (keyof RootRotation)[] = [
  "completed",
  "oldRoots",
  "nextRoots",
  "nextIntermediate",
  "carriersUpdatedAt",
  "leavesMovedAt",
  "carriers",
  "refused",
  "message",
];

/**
 * writeRotation stores the rotation in MeshCA status, carrying the version of `mca` read, so a
 * replica that decided on stale state writes nothing (a conflict). It writes only when the state
 * changed, and tells whether it wrote.
 */
export async function writeRotation(
  deps: Pick<RotationStoreDeps, "kube">,
  mca: MeshCA,
  before: RootRotation | undefined,
  after: RootRotation,
): Promise<boolean> {
  if (canonical(before) === canonical(after)) return false;
  const patch: Record<string, unknown> = { ...after };
  for (const k of clearable) if (after[k] === undefined) patch[k] = null;
  await deps.kube.patchMeshCaRotation(MESHCA_NAME, patch, mca.metadata.resourceVersion);
  return true;
}
