/**
 * The typed errors of operator/pki: one class per concept, each with a stable `code`. None is
 * retryable: every one of them describes input that stays wrong until someone changes it. Messages
 * name inputs ("certificate 1 of tls.crt"), never their content, so they are safe for status,
 * Events and logs.
 */
import { MeshIdError } from "../errors";

type ErrorOptions = { cause?: unknown };

/** PemMalformedError: a PEM input is empty, not PEM, or its content does not parse. */
export class PemMalformedError extends MeshIdError {
  constructor(message: string, options: ErrorOptions = {}) {
    super("PemMalformed", message, options);
  }
}

/** KeyMismatchError: a private key does not belong to the certificate it is paired with. */
export class KeyMismatchError extends MeshIdError {
  constructor(message: string) {
    super("KeyMismatch", message);
  }
}

/** NotACaError: a certificate used to sign others lacks basicConstraints CA:TRUE. */
export class NotACaError extends MeshIdError {
  constructor(message: string) {
    super("NotACa", message);
  }
}

/** MissingKeyCertSignError: a CA certificate's keyUsage does not allow signing certificates. */
export class MissingKeyCertSignError extends MeshIdError {
  constructor(message: string) {
    super("MissingKeyCertSign", message);
  }
}

/** CaExpiredError: a CA certificate's notAfter is at or before the time of use. */
export class CaExpiredError extends MeshIdError {
  constructor(message: string) {
    super("CaExpired", message);
  }
}

/** CaNotYetValidError: a CA certificate's notBefore is after the time of use. */
export class CaNotYetValidError extends MeshIdError {
  constructor(message: string) {
    super("CaNotYetValid", message);
  }
}

/** ChainIncompleteError: the certificate chain does not reach one of the trusted roots. */
export class ChainIncompleteError extends MeshIdError {
  constructor(message: string) {
    super("ChainIncomplete", message);
  }
}

/** PathLenViolationError: a CA in the chain has more CAs below it than its pathLenConstraint. */
export class PathLenViolationError extends MeshIdError {
  constructor(message: string) {
    super("PathLenViolation", message);
  }
}

/** WeakKeyError: a key is too weak to trust (RSA below 2048 bits). */
export class WeakKeyError extends MeshIdError {
  constructor(message: string) {
    super("WeakKey", message);
  }
}

/** UnsupportedKeyError: a key's algorithm or curve is one meshid does not sign with or for. */
export class UnsupportedKeyError extends MeshIdError {
  constructor(message: string) {
    super("UnsupportedKey", message);
  }
}

/** InvalidKeySpecError: a requested key algorithm/size pair is not one meshid generates. */
export class InvalidKeySpecError extends MeshIdError {
  constructor(message: string) {
    super("InvalidKeySpec", message);
  }
}

/** CaSecretCorruptError: a CA Secret lacks a required key or holds data that is not PEM. */
export class CaSecretCorruptError extends MeshIdError {
  constructor(message: string) {
    super("CaSecretCorrupt", message);
  }
}

/** InvalidLeafRequestError: a leaf request has a malformed SAN, usage or duration. */
export class InvalidLeafRequestError extends MeshIdError {
  constructor(message: string) {
    super("InvalidLeafRequest", message);
  }
}

/**
 * NameConstraintViolationError: a requested SAN lies outside the issuing CA's name constraints, so
 * every verifier would refuse the certificate; it is refused before signing instead.
 */
export class NameConstraintViolationError extends MeshIdError {
  constructor(message: string) {
    super("NameConstraintViolation", message);
  }
}

/** InvalidCaConfigError: CA bootstrap options (trust domain, domains, lifetimes) are malformed. */
export class InvalidCaConfigError extends MeshIdError {
  constructor(message: string) {
    super("InvalidCaConfig", message);
  }
}

/** CaPairMismatchError: the root CA Secret is not the root that signed the intermediate. */
export class CaPairMismatchError extends MeshIdError {
  constructor(message: string) {
    super("CASecretMismatch", message);
  }
}
