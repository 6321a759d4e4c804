/**
 * Reusable pieces of the MeshIdentity schema: durations, label maps and the label selector.
 */
import { DURATION_PATTERN } from "./duration";
import { wordList, type JSONSchemaProps } from "./json-schema";
import { MAX_DURATION_LENGTH, MAX_MAP_ENTRIES } from "./limits";
import { LABEL_VALUE_PATTERN, QUALIFIED_NAME_PATTERN, RESERVED_KEY_PATTERN } from "./patterns";
import { LABEL_SELECTOR_OPERATORS } from "./types";

/** celIsDuration is a CEL expression: `expr` is a non-empty duration string of the accepted form. */
export function celIsDuration(expr: string): string {
  return `(${expr}.size() > 0 && ${expr}.matches('${DURATION_PATTERN}'))`;
}

/** durationSchema is a duration field between min and max, with one message per kind of mistake. */
export function durationSchema(description: string, min: string, max: string): JSONSchemaProps {
  return {
    type: "string",
    description,
    maxLength: MAX_DURATION_LENGTH,
    "x-kubernetes-validations": [
      {
        rule: celIsDuration("self"),
        message:
          "must be a duration of whole hours, minutes and seconds in that order, such as 90m, 24h or 1h30m",
      },
      {
        rule: `!${celIsDuration("self")} || (duration(self) >= duration('${min}') && duration(self) <= duration('${max}'))`,
        message: `must be between ${min} and ${max}`,
      },
    ],
  };
}

const validKey = (k: string): string =>
  `${k}.size() <= 317 && ${k}.matches('${QUALIFIED_NAME_PATTERN}')`;

const invalidKeysMessage =
  "keys must be an optional DNS subdomain prefix and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** labelMapSchema is a bounded map whose keys must be label or annotation keys. */
export function labelMapSchema(description: string, valueSchema: JSONSchemaProps): JSONSchemaProps {
  return {
    type: "object",
    description,
    maxProperties: MAX_MAP_ENTRIES,
    additionalProperties: valueSchema,
    "x-kubernetes-validations": [
      {
        rule: `self.all(k, ${validKey("k")})`,
        message: invalidKeysMessage,
      },
    ],
  };
}

/** labelValueSchema is a string that must be a label value. */
export const labelValueSchema = (description: string): JSONSchemaProps => ({
  type: "string",
  description,
  maxLength: 63,
  pattern: LABEL_VALUE_PATTERN,
});

/** withReservedKeyRule adds the rule that keys under meshid.dev/ are refused. */
export function withReservedKeyRule(schema: JSONSchemaProps): JSONSchemaProps {
  return {
    ...schema,
    "x-kubernetes-validations": [
      ...(schema["x-kubernetes-validations"] ?? []),
      {
        rule: `self.all(k, !k.matches('${RESERVED_KEY_PATTERN}'))`,
        message: "must not use keys under meshid.dev/, which the operator sets itself",
      },
    ],
  };
}

/** selectorSchema is spec.selector: a label selector that must select by at least one label. */
export const selectorSchema: JSONSchemaProps = {
  type: "object",
  description:
    "Selects the pods of this namespace that receive the identity, by their labels (a standard " +
    "Kubernetes label selector). It must select by at least one label: an empty selector would claim " +
    "every pod of the namespace. A pod selected by two MeshIdentities gets its certificate from the " +
    "oldest one (then the first by name); the other reports the reason Conflict.",
  "x-kubernetes-map-type": "atomic",
  properties: {
    matchLabels: {
      ...labelMapSchema(
        "Labels a pod must carry with exactly these values.",
        labelValueSchema("The value the label must have."),
      ),
    },
    matchExpressions: {
      type: "array",
      description: "Further requirements on pod labels; all of them must hold.",
      maxItems: 32,
      "x-kubernetes-list-type": "atomic",
      items: {
        type: "object",
        description: "One requirement: a label key, an operator and (for In and NotIn) values.",
        required: ["key", "operator"],
        properties: {
          key: {
            type: "string",
            description: "The label key the requirement applies to.",
            maxLength: 317,
            pattern: QUALIFIED_NAME_PATTERN,
          },
          operator: {
            type: "string",
            description: `How the key relates to the values: ${wordList(LABEL_SELECTOR_OPERATORS, "or")}.`,
            enum: [...LABEL_SELECTOR_OPERATORS],
          },
          values: {
            type: "array",
            description:
              "The values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.",
            maxItems: 64,
            "x-kubernetes-list-type": "atomic",
            items: labelValueSchema("One label value."),
          },
        },
        "x-kubernetes-validations": [
          {
            rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
            message: "must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
            fieldPath: ".values",
          },
        ],
      },
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
      message:
        "must select by at least one label (matchLabels or matchExpressions): an empty selector would claim every pod of the namespace",
    },
  ],
};
