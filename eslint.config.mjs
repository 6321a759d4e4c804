// ESLint flat config: recommended JavaScript and type-aware TypeScript rules.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "pkijs", message: "Crypto lives in operator/pki/ only." },
            { name: "asn1js", message: "Crypto lives in operator/pki/ only." },
            { name: "@peculiar/x509", message: "Crypto lives in operator/pki/ only." },
          ],
        },
      ],
    },
  },
  {
    // Fakes implement async ports synchronously.
    files: ["**/*.test.ts", "operator/testing/**/*.ts", "test/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    files: ["operator/pki/**/*.ts", "test/**/*.ts", "hack/**/*.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
