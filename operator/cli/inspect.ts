/**
 * kubectl meshid inspect pod/NAME: the pod's certificate decoded, its key checked against it, and its
 * chain verified against the trust bundle that the pod's peers use.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import {
  inspectCertificate,
  keyMatchesCertificate,
  summarizeCertificates,
  verifyLeafChain,
  type LeafVerification,
} from "../pki";
import { annotations, labels, trustBundleConfigMap } from "../policy/naming";
import { mounts, secretText } from "./inventory";
import { rfc3339 } from "./output";

/** Inspection is everything inspect reports about one pod's certificate. */
export interface Inspection {
  pod: { namespace: string; name: string; uid: string };
  meshIdentity?: string;
  secret: { name: string; mounted: boolean; boundToPod: boolean };
  certificate: {
    subject: string;
    spiffeId?: string;
    uris: string[];
    dnsNames: string[];
    ipAddresses: string[];
    serial: string;
    notBefore?: string;
    notAfter?: string;
    renewAt?: string;
    key: string;
    keyMatches: boolean;
    usages: string[];
  };
  issuer: { subject?: string; fingerprint?: string; currentCa?: boolean };
  chain: LeafVerification & { bundle: string };
}

/** inspectPodSecret builds the inspection of `secret`, the certificate Secret of `pod`. */
export function inspectPodSecret(
  pod: V1Pod,
  secret: V1Secret,
  bundle: { pem: string; from: string },
  currentCaFingerprint: string | undefined,
  now: Date,
): Inspection {
  const crt = secretText(secret, "tls.crt");
  const info = inspectCertificate(crt);
  const [leaf, issuer] = summarizeCertificates(crt, "tls.crt");
  const notes = secret.metadata?.annotations ?? {};
  const identity = secret.metadata?.labels?.[labels.identity];
  return {
    pod: {
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      uid: pod.metadata?.uid ?? "",
    },
    ...(identity ? { meshIdentity: identity } : {}),
    secret: {
      name: secret.metadata?.name ?? "",
      mounted: mounts(pod, secret.metadata?.name),
      boundToPod: notes[annotations.podUid] === pod.metadata?.uid,
    },
    certificate: {
      subject: leaf?.subject ?? "",
      spiffeId: info.uris.find((u) => u.startsWith("spiffe://")),
      uris: info.uris,
      dnsNames: info.dnsNames,
      ipAddresses: info.ipAddresses,
      serial: info.serialHex,
      notBefore: rfc3339(info.notBefore),
      notAfter: rfc3339(info.notAfter),
      renewAt: rfc3339(notes[annotations.renewAt]),
      key: [info.keySpec.algorithm, info.keySpec.size].filter(Boolean).join(" "),
      keyMatches: keyMatchesCertificate(crt, secretText(secret, "tls.key")),
      usages: [...info.keyUsages, ...info.extKeyUsages],
    },
    issuer: {
      subject: issuer?.subject,
      fingerprint: info.issuerFingerprint,
      ...(currentCaFingerprint
        ? { currentCa: info.issuerFingerprint === currentCaFingerprint }
        : {}),
    },
    chain: { ...verifyLeafChain(crt, bundle.pem, now), bundle: bundle.from },
  };
}

/** bundleSource names where the trust bundle was read. */
export function bundleSource(namespace: string, fromConfigMap: boolean, secret: string): string {
  return fromConfigMap
    ? `ConfigMap ${namespace}/${trustBundleConfigMap}`
    : `Secret ${namespace}/${secret} (ca.crt)`;
}

/** renderInspection lays an inspection out for people, one field per line. */
export function renderInspection(i: Inspection): string {
  const c = i.certificate;
  const yesNo = (b: boolean | undefined) => (b === undefined ? "unknown" : b ? "yes" : "no");
  const list = (xs: string[]) => (xs.length > 0 ? xs.join(", ") : "<none>");
  const lines: [string, string | undefined][] = [
    ["Pod", `${i.pod.namespace}/${i.pod.name} (uid ${i.pod.uid})`],
    ["MeshIdentity", i.meshIdentity],
    [
      "Secret",
      `${i.secret.name} (mounted: ${yesNo(i.secret.mounted)}, bound to this pod: ${yesNo(i.secret.boundToPod)})`,
    ],
    ["Subject", c.subject || "<empty>"],
    ["SPIFFE ID", c.spiffeId],
    ["DNS names", list(c.dnsNames)],
    ["IP addresses", list(c.ipAddresses)],
    ["Serial", c.serial],
    ["Not before", c.notBefore],
    ["Not after", c.notAfter],
    ["Renew at", c.renewAt],
    ["Key", `${c.key} (matches the certificate: ${yesNo(c.keyMatches)})`],
    ["Usages", list(c.usages)],
    [
      "Issuer",
      `${i.issuer.subject ?? "<none in tls.crt>"} (fingerprint ${i.issuer.fingerprint ?? "<none>"})`,
    ],
    ["Current CA", yesNo(i.issuer.currentCa)],
    [
      "Chain",
      i.chain.verified
        ? `verified against ${i.chain.bundle}`
        : `NOT VERIFIED against ${i.chain.bundle}: ${i.chain.problem}`,
    ],
  ];
  const path = i.chain.path.map(
    (p, n) =>
      `  ${"   ".repeat(Math.max(0, n - 1))}${n > 0 ? "└─ " : ""}${p.subject || "<empty subject>"} (not after ${rfc3339(p.notAfter)})`,
  );
  return [...lines.map(([k, v]) => `${`${k}:`.padEnd(14)}${v ?? "<none>"}`), ...path]
    .join("\n")
    .concat("\n");
}
