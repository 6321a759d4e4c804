/**
 * The start of a root rotation: the state it starts from, and the next intermediate it rotates to,
 * made (bootstrap mode: a new root and intermediate, each in its own Secret, create-only) or read
 * (external mode: the one the user supplied), and validated either way before anything trusts it.
 */
import type { CertificateRef, MeshCA, RootRotation } from "../../api/v1alpha1/meshca";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { isConflict } from "../kube/errors";
import { buildCaSecret } from "../kube/objects";
import { nextCaSecretName, nextRootCaSecretName } from "../policy/naming";
import {
  bootstrapCa,
  bootstrapSecretData,
  decodeCaSecretData,
  loadSigningCa,
  signIntermediate,
  summarizeCertificates,
  type SigningCa,
} from "../pki";
import {
  loadNextCa,
  nextCaRef,
  RotationBlockedError,
  type RotationConfig,
  type RotationStoreDeps,
} from "./rotation-store";

/** PrepareDeps are the ports and settings preparing a rotation uses. */
export interface PrepareDeps extends RotationStoreDeps {
  logger: Logger;
  config: RotationConfig &
    Pick<
      Config,
      | "trustDomain"
      | "clusterDomain"
      | "allowedDnsSuffixes"
      | "caIntermediateValidityMs"
      | "caRootValidityMs"
    >;
}

const refsOf = (pem: string, what: string): CertificateRef[] =>
  summarizeCertificates(pem, what).map((c) => ({
    fingerprint: c.fingerprint,
    subject: c.subject,
    notAfter: c.notAfter.toISOString(),
  }));

/** startingState is the state a rotation requested by `mca` starts from, trusting `ca`'s roots. */
export function startingState(
  deps: Pick<RotationStoreDeps, "clock">,
  mca: MeshCA,
  ca: SigningCa,
): RootRotation {
  const previous = mca.status?.rotation;
  return {
    id: mca.spec?.rootRotation ?? "",
    phase: "Prepared",
    since:
      previous?.phase === "Pending" && previous.id === mca.spec?.rootRotation
        ? previous.since
        : deps.clock.now().toISOString(),
    ...(previous?.completed ? { completed: previous.completed } : {}),
    // A refused token stays refused: putting it back later is a rollback, not a new request.
    ...(previous?.refused ? { refused: previous.refused } : {}),
    oldRoots: refsOf(ca.trustBundlePem, "the trust bundle"),
  };
}

/** prepareRotation makes (bootstrap) or reads (external) the next intermediate and validates it. */
export async function prepareRotation(
  deps: PrepareDeps,
  mca: MeshCA,
  ca: SigningCa,
): Promise<RootRotation> {
  if (deps.config.caMode === "bootstrap") await createBootstrapNext(deps);
  const next = await loadNextCa(deps);
  const nextRoots = refsOf(next.trustBundlePem, "the next roots");
  const [nextIntermediate] = refsOf(next.chainPem, "the next intermediate");
  if (next.fingerprint === ca.fingerprint)
    throw new RotationBlockedError(
      `${nextCaRef(deps.config)} holds the intermediate that already signs; supply a new one`,
    );
  return {
    ...startingState(deps, mca, ca),
    nextRoots,
    ...(nextIntermediate ? { nextIntermediate } : {}),
  };
}

/**
 * createBootstrapNext creates the next root and then the next intermediate, each create-only:
 * an existing one (a restart, another replica) is used as it is, and validated, never replaced.
 */
async function createBootstrapNext(deps: PrepareDeps): Promise<void> {
  const { kube, config, clock, logger } = deps;
  const ns = config.namespace;
  const rootName = nextRootCaSecretName(config.rootCaSecret);
  const caName = nextCaSecretName(config.caSecret);
  let root = await kube.getSecret(ns, rootName);
  const have = await kube.getSecret(ns, caName);
  if (root && have) return;
  if (!root && have)
    throw new RotationBlockedError(
      `${ns}/${caName} exists without ${ns}/${rootName}; delete ${caName} (or restore ${rootName}) to prepare the rotation again`,
    );
  const now = clock.now();
  const generated = await bootstrapCa({
    trustDomain: config.trustDomain,
    clusterDomain: config.clusterDomain,
    dnsSuffixes: ["svc", ...config.allowedDnsSuffixes],
    now,
    intermediateValidityMs: config.caIntermediateValidityMs,
    rootValidityMs: config.caRootValidityMs,
    rootCommonName: `meshid root CA ${now.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`,
  });
  const data = bootstrapSecretData(generated);
  if (!root) {
    try {
      root = await kube.createSecret(ns, buildCaSecret(ns, rootName, data.root));
      logger.info("Created the next root CA", { secret: rootName });
    } catch (err) {
      if (!isConflict(err)) throw err;
      root = await kube.getSecret(ns, rootName);
    }
  }
  if (!root) throw new RotationBlockedError(`${ns}/${rootName} vanished while preparing`);
  const rootPems = decodeCaSecretData(root.data);
  // The generated intermediate fits only the generated root; a root found in place gets its own.
  let intermediate = data.intermediate;
  if (rootPems.certPem !== generated.root.certPem) {
    const rootCa = await loadSigningCa({ ...rootPems, rootsPem: rootPems.certPem, now });
    const signed = await signIntermediate(rootCa, {
      trustDomain: config.trustDomain,
      clusterDomain: config.clusterDomain,
      dnsSuffixes: ["svc", ...config.allowedDnsSuffixes],
      now,
      intermediateValidityMs: config.caIntermediateValidityMs,
    });
    intermediate = bootstrapSecretData({
      root: { ...rootPems },
      intermediate: signed,
    }).intermediate;
  }
  try {
    await kube.createSecret(ns, buildCaSecret(ns, caName, intermediate));
    logger.info("Created the next intermediate CA", { secret: caName });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}
