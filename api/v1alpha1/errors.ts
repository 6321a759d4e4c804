/**
 * Typed errors of the MeshIdentity API: MeshIdErrors with a stable CamelCase `code`, never
 * retryable, since they describe the spec itself, not the state of the world.
 */
import { MeshIdError } from "../errors";

/** DurationError: a string is not a duration of the form the API accepts (e.g. `1h30m`). */
export class DurationError extends MeshIdError {
  /** Creates the error for `input`, the string that failed to parse. */
  constructor(
    readonly input: string,
    detail = "expected whole hours, minutes and seconds in that order, e.g. 90m, 24h or 1h30m",
  ) {
    super("DurationInvalid", `invalid duration ${JSON.stringify(input)}: ${detail}`);
  }
}

/** TemplateError: a DNS name template uses a variable other than the supported ones. */
export class TemplateError extends MeshIdError {
  /** Creates the error for `template`, naming the unknown `variable`. */
  constructor(
    readonly template: string,
    readonly variable: string,
  ) {
    super(
      "TemplateVariableUnknown",
      `DNS name template ${JSON.stringify(template)} uses unknown variable $(${variable}); ` +
        "supported: $(POD_NAME), $(POD_NAMESPACE), $(SERVICE_ACCOUNT)",
    );
  }
}

/**
 * SpecError: a spec the API server accepted cannot be resolved, e.g. an explicit renewBefore that
 * is not below the operator's configured default duration. `field` is the offending field's path.
 */
export class SpecError extends MeshIdError {
  /** Creates the error for the field at path `field` (e.g. `spec.renewBefore`). */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("SpecInvalid", `${field}: ${message}`);
  }
}
