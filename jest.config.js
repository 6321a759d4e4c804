// Jest runs TypeScript through @swc/jest (CommonJS). pkijs and its dependencies ship only as ES
// modules, so they are transformed too. Type-checking is `npm run typecheck`, not jest's job.
/** @type {import('jest').Config} */
const esmPackages = [
  "pkijs",
  "asn1js",
  "@noble",
  "@peculiar/utils",
  "bytestreamjs",
  "pvtsutils",
  "pvutils",
];

const shared = {
  transform: {
    "^.+\\.(t|j)s$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript", decorators: true }, target: "es2022" },
        module: { type: "commonjs" },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join("|")})/)`],
  setupFiles: ["reflect-metadata"],
  testEnvironment: "node",
  testEnvironmentOptions: { globalsCleanup: "off" },
};

module.exports = {
  // Integration tests share one control plane, and every operator they start reconciles every
  // namespace: test files must not run at the same time.
  maxWorkers: 1,
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["<rootDir>/{api,operator,hack}/**/*.test.ts"],
    },
    {
      ...shared,
      displayName: "integration",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      globalSetup: "<rootDir>/test/setup/global-setup.ts",
      globalTeardown: "<rootDir>/test/setup/global-teardown.ts",
    },
  ],
};
