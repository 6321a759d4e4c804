/**
 * Re-issues asked for by people: `meshid.dev/renew-requested-at` (RFC 3339) on a pod renews that
 * pod's certificate; on a MeshIdentity it renews every pod it selects, each pod at a stable slot of
 * a window paced by the one mass re-issue limiter (policy/pacing.ts), so a large workload is not
 * re-issued in one burst.
 */
import { annotations } from "./naming";
import type { RenewRequest } from "./issuance";
import { defaultPacing, type Pacing, spreadWindowMs } from "./pacing";

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
 * its MeshIdentity's, paced over a window that holds the pods it selects (`selectedPods`, from its
 * status) at the configured rate; undefined when neither is set or readable.
 */
export function renewRequestOf(
  pod: { annotations?: Record<string, string> } | undefined,
  identity: { annotations?: Record<string, string> } | undefined,
  selectedPods = 0,
  pacing: Pacing = defaultPacing,
): RenewRequest | undefined {
  const own = requestedAt(pod);
  const all = requestedAt(identity);
  if (own && (!all || own >= all)) return { at: own, spreadMs: 0 };
  if (all) return { at: all, spreadMs: spreadWindowMs(selectedPods, pacing) };
  return undefined;
}
