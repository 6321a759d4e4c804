/**
 * The writes of a root rotation's phases after it is prepared: propagate (the next roots join the
 * CA Secret's bundle), activate (the next intermediate signs), retire (the old roots leave; in
 * bootstrap mode the next root becomes the root Secret) and rollback (the next roots leave again).
 * Each compares what is stored with what it wants and writes only the difference, so a step cut
 * short is finished by the next reconcile. Each ends by making the CA manager read the CA again.
 */
import type { RootRotation } from "../../api/v1alpha1/meshca";
import type { Logger } from "../logger";
import { b64, buildCaSecret, secretText } from "../kube/objects";
import { trustBundleStale } from "../policy/issuance";
import { nextCaSecretName, nextRootCaSecretName, retiredRootCaSecretName } from "../policy/naming";
import {
  bundleFingerprints,
  bundleWithout,
  decodeCaSecretData,
  encodeCaSecretData,
  loadSigningCa,
  mergeBundles,
} from "../pki";
import { isConflict } from "../kube/errors";
import {
  deleteSecrets,
  loadPreparedNext,
  readCaSecret,
  replaceSecretData,
  RotationBlockedError,
  type RotationStoreDeps,
} from "./rotation-store";

/** RotationStepDeps are the ports the phase steps use. */
export interface RotationStepDeps extends RotationStoreDeps {
  logger: Logger;
  /** recheckCa makes the CA manager read the CA Secrets now. */
  recheckCa: () => Promise<void>;
}

/** propagate puts the next roots beside the current ones in the CA Secret's ca.crt. */
export async function propagate(deps: RotationStepDeps, state: RootRotation): Promise<void> {
  const { next } = await loadPreparedNext(deps, state);
  const secret = await readCaSecret(deps);
  const caPem = decodeCaSecretData(secret.data).caPem;
  const want = mergeBundles(caPem, next.trustBundlePem);
  if (!trustBundleStale(caPem, want)) return;
  await replaceSecretData(deps, secret, { ...secret.data, "ca.crt": b64(want) });
  deps.logger.info("Added the next root to the trust bundle", { rotation: state.id });
  await deps.recheckCa();
}

/** activate makes the next intermediate the signing one; both roots stay trusted. */
export async function activate(deps: RotationStepDeps, state: RootRotation): Promise<void> {
  const { next, secret: nextSecret } = await loadPreparedNext(deps, state);
  const secret = await readCaSecret(deps);
  const current = decodeCaSecretData(secret.data);
  const nextPems = decodeCaSecretData(nextSecret.data);
  if (current.certPem === nextPems.certPem) return;
  // It must load under the bundle every carrier holds, exactly as the CA manager will load it.
  await loadSigningCa({ ...nextPems, rootsPem: current.caPem, now: deps.clock.now() });
  const earlier = secretText(secret.data, "previous.crt") ?? "";
  const previous = mergeBundles(current.certPem, earlier);
  await replaceSecretData(deps, secret, {
    "tls.crt": b64(nextPems.certPem),
    "tls.key": b64(nextPems.keyPem),
    "ca.crt": b64(current.caPem),
    "previous.crt": b64(previous),
  });
  deps.logger.info("The next intermediate signs now", {
    rotation: state.id,
    fingerprint: next.fingerprint,
  });
  await deps.recheckCa();
}

/**
 * retire takes the old roots out of the bundle (the next roots stay), and in bootstrap mode
 * keeps the old root as a backup Secret and makes the next root the root Secret. Every step is
 * guarded by what is stored, so a retire cut short is finished by the next reconcile.
 */
export async function retire(deps: RotationStepDeps, state: RootRotation): Promise<void> {
  const { config, logger } = deps;
  const nextFps = (state.nextRoots ?? []).map((r) => r.fingerprint);
  const oldFps = (state.oldRoots ?? [])
    .map((r) => r.fingerprint)
    .filter((f) => !nextFps.includes(f));
  if (config.caMode === "bootstrap") await retireRootSecret(deps, oldFps, nextFps);
  const secret = await readCaSecret(deps);
  const caPem = decodeCaSecretData(secret.data).caPem;
  const want = bundleWithout(caPem, oldFps);
  if (want === "") throw new RotationBlockedError("retiring would leave the trust bundle empty");
  if (trustBundleStale(caPem, want) || secret.data?.["previous.crt"]) {
    // Every live leaf is on the current intermediate: no previous one is needed any more.
    const { "previous.crt": _dropped, ...data } = secret.data ?? {};
    await replaceSecretData(deps, secret, { ...data, "ca.crt": b64(want) });
    logger.info("Removed the old root from the trust bundle", { rotation: state.id });
  }
  // The next intermediate now lives in the CA Secret; its copy (and the next root's) goes.
  const rootNext = nextRootCaSecretName(config.rootCaSecret);
  await deleteSecrets(deps, [
    nextCaSecretName(config.caSecret),
    ...(config.caMode === "bootstrap" ? [rootNext] : []),
  ]);
  await deps.recheckCa();
}

/** retireRootSecret backs the old root up and puts the next root in the root Secret. */
async function retireRootSecret(
  deps: RotationStepDeps,
  oldFps: string[],
  nextFps: string[],
): Promise<void> {
  const { kube, config, logger } = deps;
  const ns = config.namespace;
  const root = await kube.getSecret(ns, config.rootCaSecret);
  if (!root) throw new RotationBlockedError(`${ns}/${config.rootCaSecret} does not exist`);
  const rootPems = decodeCaSecretData(root.data);
  const [rootFp] = bundleFingerprints(rootPems.certPem);
  if (rootFp && nextFps.includes(rootFp)) return; // already the next root
  if (!rootFp || !oldFps.includes(rootFp))
    throw new RotationBlockedError(
      `${ns}/${config.rootCaSecret} holds neither the old nor the next root; restore it`,
    );
  const backup = retiredRootCaSecretName(config.rootCaSecret, rootFp);
  try {
    await kube.createSecret(ns, buildCaSecret(ns, backup, encodeCaSecretData(rootPems)));
    logger.info("Kept the retired root as a backup", { secret: backup });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  const nextName = nextRootCaSecretName(config.rootCaSecret);
  const next = await kube.getSecret(ns, nextName);
  if (!next) throw new RotationBlockedError(`${ns}/${nextName} does not exist`);
  await replaceSecretData(deps, root, { ...next.data });
}

/** rollback takes the next roots out of the bundle and drops the Secrets it prepared. */
export async function rollback(deps: RotationStepDeps, state: RootRotation): Promise<void> {
  const { config, logger } = deps;
  const oldFps = (state.oldRoots ?? []).map((r) => r.fingerprint);
  const addedFps = (state.nextRoots ?? [])
    .map((r) => r.fingerprint)
    .filter((f) => !oldFps.includes(f));
  const secret = await readCaSecret(deps);
  const caPem = decodeCaSecretData(secret.data).caPem;
  const want = bundleWithout(caPem, addedFps);
  if (trustBundleStale(caPem, want)) {
    await replaceSecretData(deps, secret, { ...secret.data, "ca.crt": b64(want) });
    logger.info("Removed the next root from the trust bundle", { rotation: state.id });
  }
  // External mode: the next intermediate is the user's; it is left where they put it. Pending:
  // nothing was prepared, and what stands in the way is left for a person to look at.
  if (config.caMode === "bootstrap" && state.phase !== "Pending")
    await deleteSecrets(deps, [
      nextCaSecretName(config.caSecret),
      nextRootCaSecretName(config.rootCaSecret),
    ]);
  await deps.recheckCa();
}
