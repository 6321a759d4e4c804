/**
 * The subset of the apiextensions.k8s.io/v1 JSON schema this API uses, and small helpers that
 * render prose and CEL from TypeScript values, so descriptions and rules never restate a constant.
 */

/** ValidationRule is one CEL rule of `x-kubernetes-validations`. */
export interface ValidationRule {
  /** rule is the CEL expression; `self` is the value of the field the rule is attached to. */
  rule: string;
  /** message is shown when the rule fails, after the field path. */
  message: string;
  /** fieldPath points the error at a child field (e.g. `.size`), relative to `self`. */
  fieldPath?: string;
}

/** JSONSchemaProps is the subset of the apiextensions.k8s.io/v1 schema this API uses. */
export interface JSONSchemaProps {
  /** type of the value. */
  type?: "object" | "array" | "string" | "integer" | "boolean";
  /** format refines the type (int32, int64, date-time). */
  format?: string;
  /** description is what kubectl explain prints. */
  description?: string;
  /** properties of an object. */
  properties?: Record<string, JSONSchemaProps>;
  /** required properties of an object. */
  required?: string[];
  /** additionalProperties is the schema of a map's values. */
  additionalProperties?: JSONSchemaProps;
  /** items is the schema of an array's elements. */
  items?: JSONSchemaProps;
  /** enum lists the allowed values. */
  enum?: (string | number)[];
  /** pattern is an RE2 regular expression a string must match. */
  pattern?: string;
  /** minLength of a string. */
  minLength?: number;
  /** maxLength of a string. */
  maxLength?: number;
  /** minItems of an array. */
  minItems?: number;
  /** maxItems of an array. */
  maxItems?: number;
  /** maxProperties of a map. */
  maxProperties?: number;
  /** minimum of a number. */
  minimum?: number;
  /** x-kubernetes-validations are CEL rules. */
  "x-kubernetes-validations"?: ValidationRule[];
  /** x-kubernetes-list-type: atomic, set or map. */
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  /** x-kubernetes-list-map-keys are the keys of a list map. */
  "x-kubernetes-list-map-keys"?: string[];
  /** x-kubernetes-map-type: atomic or granular. */
  "x-kubernetes-map-type"?: "atomic" | "granular";
}

/** wordList joins items as prose: "a", "a or b", "a, b or c". */
export function wordList(items: readonly (string | number)[], conjunction: "and" | "or"): string {
  const words = items.map(String);
  const last = words.pop();
  return words.length === 0 ? (last ?? "") : `${words.join(", ")} ${conjunction} ${last}`;
}

/** celList renders numbers or strings as a CEL list literal. */
export const celList = (items: readonly (string | number)[]): string =>
  `[${items.map((i) => (typeof i === "string" ? `'${i}'` : String(i))).join(", ")}]`;
