/**
 * Re-issues asked for by people: `meshid.dev/renew-requested-at` (RFC 3339) on a pod renews that
 * pod's certificate; on a MeshIdentity it renews every pod it selects, paced over a window so a
 * large workload is not re-issued in one burst.
 */
import { annotations } from "./naming";
import type { RenewRequest } from "./issuance";

/** identityRenewSpreadMs is the window over which a MeshIdentity-wide request is spread. */
const identityRenewSpreadMs = 2 * 60_000;

function requestedAt(
  source: { annotations?: Record<string, string> } | undefined,
): Date | undefined {
  const text = source?.annotations?.[annotations.renewRequestedAt];
  if (!text) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * renewRequestOf is the request that applies to a pod: the later of the pod's own (at once) and
 * its MeshIdentity's (paced); undefined when neither is set or readable.
 */
export function renewRequestOf(
  pod: { annotations?: Record<string, string> } | undefined,
  identity: { annotations?: Record<string, string> } | undefined,
): RenewRequest | undefined {
  const own = requestedAt(pod);
  const all = requestedAt(identity);
  if (own && (!all || own >= all)) return { at: own, spreadMs: 0 };
  if (all) return { at: all, spreadMs: identityRenewSpreadMs };
  return undefined;
}
