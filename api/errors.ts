/**
 * MeshIdError is the base of every error meshid raises on purpose, in api/ and operator/ alike.
 * `code` is stable and machine-readable (it becomes a condition reason, an Event reason and a
 * metric label), so it never changes once released; the message is for humans and says what is
 * wrong and what to do about it. `retryable` tells a reconciler whether trying the same thing again
 * later can succeed without a human changing something (a conflict or a timeout can; a malformed
 * CA Secret cannot).
 *
 * Messages and causes never carry key material: subclasses describe inputs by name ("the key in
 * tls.key"), never by content. It lives in api/, the lowest layer, so that api/ needs nothing of
 * operator/.
 */
export class MeshIdError extends Error {
  /** code is the stable identifier of the error's concept, e.g. "PemMalformed". */
  readonly code: string;
  /** retryable is true when repeating the operation unchanged may succeed. */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
