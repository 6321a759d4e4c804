/**
 * Typed errors of the MeshIdentity API. They have the shape of MeshIdError (operator/errors.ts,
 * which api/ must not import): a stable CamelCase `code`, and `retryable`, always false here,
 * since these errors describe the spec itself, not the state of the world.
 */

/** DurationError: a string is not a duration of the form the API accepts (e.g. `1h30m`). */
export class DurationError extends Error {
  /** code identifies this error kind independently of the message. */
  readonly code = "DurationInvalid";
  /** retryable is false: the same input always fails. */
  readonly retryable = false;

  /** Creates the error for `input`, the string that failed to parse. */
  constructor(
    readonly input: string,
    detail = "expected whole hours, minutes and seconds in that order, e.g. 90m, 24h or 1h30m",
  ) {
    super(`invalid duration ${JSON.stringify(input)}: ${detail}`);
    this.name = "DurationError";
  }
}

/** TemplateError: a DNS name template uses a variable other than the supported ones. */
export class TemplateError extends Error {
  /** code identifies this error kind independently of the message. */
  readonly code = "TemplateVariableUnknown";
  /** retryable is false: the same template always fails. */
  readonly retryable = false;

  /** Creates the error for `template`, naming the unknown `variable`. */
  constructor(
    readonly template: string,
    readonly variable: string,
  ) {
    super(
      `DNS name template ${JSON.stringify(template)} uses unknown variable $(${variable}); ` +
        "supported: $(POD_NAME), $(POD_NAMESPACE), $(SERVICE_ACCOUNT)",
    );
    this.name = "TemplateError";
  }
}

/**
 * SpecError: a spec the API server accepted cannot be resolved, e.g. an explicit renewBefore that
 * is not below the operator's configured default duration. `field` is the offending field's path.
 */
export class SpecError extends Error {
  /** code identifies this error kind independently of the message. */
  readonly code = "SpecInvalid";
  /** retryable is false: the same spec always fails. */
  readonly retryable = false;

  /** Creates the error for the field at path `field` (e.g. `spec.renewBefore`). */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "SpecError";
  }
}
