/**
 * operator/pki is meshid's certificate authority and the only code that imports a crypto
 * library: key generation, CA bootstrap and import, leaf issuance and inspection.
 */
export {
  type BootstrapCaOptions,
  type BootstrappedCa,
  bootstrapCa,
  type CaCredentials,
  signIntermediate,
} from "./ca";
export { checkCaPair } from "./ca-pair";
export { bundleFingerprints, bundleWithout, mergeBundles } from "./bundle";
export {
  bootstrapSecretData,
  type CaSecretData,
  type CaSecretPems,
  decodeCaSecretData,
  encodeCaSecretData,
  renewedSecretData,
} from "./ca-secret";
export * from "./errors";
export { CLOCK_SKEW_MS } from "./cert-builder";
export { canonicalIp } from "./ip";
export { type CertificateInfo, inspectCertificate, keyMatchesCertificate } from "./inspect";
export { type IssuedLeaf, issueLeaf, type LeafRequest } from "./issue";
export {
  type GeneratedKey,
  generateKey,
  type KeyAlgorithm,
  type KeySpec,
  publicKeyFromPrivate,
} from "./keys";
export { podCertificatePublicKey, type RequestedPublicKey } from "./pod-certificate";
export { type LoadSigningCaOptions, loadSigningCa, type SigningCa } from "./signing-ca";
export { type Usage } from "./usages";
export { type ChainVerdict, type StoredCertificate, verifyStoredCertificate } from "./verify";
export {
  type CertificateSummary,
  type LeafVerification,
  summarizeCertificates,
  verifyLeafChain,
} from "./verify-leaf";
