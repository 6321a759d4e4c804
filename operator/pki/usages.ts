/**
 * Usages as a MeshIdentity names them, and how they map onto keyUsage bits and extendedKeyUsage
 * purposes.
 */
import { ExtKeyUsageOid, KeyUsageBit } from "./extensions";

/** Usage is one certificate usage, spelled as cert-manager and MeshIdentity spell it. */
export type Usage = "server auth" | "client auth" | "digital signature" | "key encipherment";

/** extKeyUsageOids maps the usages that are extendedKeyUsage purposes to their OIDs. */
export const extKeyUsageOids: Partial<Record<Usage, string>> = {
  "server auth": ExtKeyUsageOid.serverAuth,
  "client auth": ExtKeyUsageOid.clientAuth,
};

/** keyUsageBits maps the usages that are keyUsage bits to their bit. */
export const keyUsageBits: Partial<Record<Usage, number>> = {
  "digital signature": KeyUsageBit.digitalSignature,
  "key encipherment": KeyUsageBit.keyEncipherment,
};

/** isUsage tells a known usage from any other string. */
export function isUsage(text: string): text is Usage {
  return text in extKeyUsageOids || text in keyUsageBits;
}
