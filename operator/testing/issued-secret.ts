/** issuedSecret builds a managed pod Secret holding a real leaf, for reconciler unit tests. */
import type { V1Secret } from "@kubernetes/client-node";
import { generateKey, issueLeaf, type SigningCa } from "../pki";
import { labels } from "../policy/naming";

const b64 = (t: string) => Buffer.from(t).toString("base64");

/** IssuedSecretOptions name the Secret, its owner and what its ca.crt holds. */
export interface IssuedSecretOptions {
  name: string;
  now: Date;
  /** owner is the Pod ownerReference (name and UID); none when omitted. */
  owner?: { name: string; uid: string };
  /** bundlePem is ca.crt; no ca.crt when omitted. */
  bundlePem?: string;
  resourceVersion?: string;
}

/**
 * issuedSecret is a managed Secret in namespace shop with a P-256 leaf of `ca` for
 * spiffe://cluster.local/ns/shop/sa/payments, valid for an hour from `now`.
 */
export async function issuedSecret(ca: SigningCa, o: IssuedSecretOptions): Promise<V1Secret> {
  const key = await generateKey({ algorithm: "ECDSA", size: 256 });
  const leaf = await issueLeaf(ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId: "spiffe://cluster.local/ns/shop/sa/payments",
    dnsNames: [],
    ipAddresses: [],
    usages: ["server auth", "client auth"],
    durationMs: 3_600_000,
    now: o.now,
  });
  return {
    metadata: {
      name: o.name,
      namespace: "shop",
      uid: `uid-${o.name}`,
      resourceVersion: o.resourceVersion ?? "1",
      labels: { [labels.managed]: "true" },
      ...(o.owner ? { ownerReferences: [{ apiVersion: "v1", kind: "Pod", ...o.owner }] } : {}),
    },
    data: {
      "tls.crt": b64(leaf.certChainPem),
      "tls.key": b64(key.privateKeyPem),
      ...(o.bundlePem !== undefined ? { "ca.crt": b64(o.bundlePem) } : {}),
    },
  };
}
