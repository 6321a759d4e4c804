// ESLint flat config: recommended JavaScript and type-aware TypeScript rules, and the layers of
// docs/architecture.md as import rules (hack/lint-layers.test.ts proves each one bites).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const crypto = {
  group: ["node:crypto", "crypto", "pkijs", "asn1js", "@peculiar/*"],
  message: "Crypto lives in operator/pki/ only.",
};
const clientNode = {
  group: ["@kubernetes/client-node"],
  allowTypeImports: true,
  message: "API I/O lives in operator/kube/ (type imports are fine).",
};
const framework = {
  group: ["@dot-i/k8s-operator"],
  message:
    "The framework is wired in operator/operator.ts and adapted in operator/kube/framework.ts only.",
};
const http = {
  group: ["node:http", "node:https", "http", "https"],
  message: "HTTP lives in operator/kube/, operator/webhook/ and the process's endpoints.",
};
const ports = {
  group: [
    "**/kube/*",
    "**/kube",
    "**/pki",
    "**/pki/*",
    "**/clock",
    "**/logger",
    "**/controllers/*",
    "**/webhook/*",
  ],
  message: "policy/ is pure: no I/O, no crypto, no clock, no logger (pass values in).",
};
const operatorFromApi = {
  group: ["**/operator/*", "**/operator/**"],
  message: "api/ is the lowest layer and imports nothing from operator/.",
};

/** layer restricts imports for the files of one layer. */
const layer = (files, patterns) => ({
  files,
  rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns }] },
});

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "coverage/", ".tmp/", "**/*.mjs", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  // Later entries replace earlier ones for the files they match: most specific last.
  layer(["operator/**/*.ts"], [crypto, clientNode, framework]),
  layer(["operator/operator.ts"], [crypto, clientNode]),
  layer(["operator/kube/**/*.ts"], [crypto]),
  layer(["operator/kube/framework.ts"], [crypto]),
  layer(["operator/webhook/**/*.ts"], [crypto, clientNode, framework]),
  // The kubectl plugin is a program of its own: it talks to the API server with the user's
  // kubeconfig, and reaches crypto only through pki/.
  layer(["operator/cli/**/*.ts"], [crypto, framework, http]),
  layer(["operator/controllers/**/*.ts"], [crypto, clientNode, framework, http]),
  layer(["operator/policy/**/*.ts"], [crypto, clientNode, framework, http, ports]),
  layer(["operator/pki/**/*.ts"], [clientNode, framework, http]),
  layer(["api/**/*.ts"], [crypto, clientNode, framework, http, operatorFromApi]),
  {
    // policy/ never reads the clock or draws random numbers: both are inputs.
    files: ["operator/policy/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "policy/ takes randomness as an input." },
        { object: "Date", property: "now", message: "policy/ takes the time as an input." },
      ],
    },
  },
  {
    // Fakes implement async ports synchronously.
    files: ["**/*.test.ts", "operator/testing/**/*.ts", "test/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    // Tests and tools may reach into any layer.
    files: ["**/*.test.ts", "operator/testing/**/*.ts", "test/**/*.ts", "hack/**/*.ts"],
    rules: { "@typescript-eslint/no-restricted-imports": "off" },
  },
  {
    // The process's wiring stays short; a new part brings its own module (docs/architecture.md).
    files: ["operator/operator.ts"],
    rules: { "max-lines": ["error", { max: 150, skipBlankLines: false, skipComments: false }] },
  },
);
