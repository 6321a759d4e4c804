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
  // Local clusters keep containerd's image layers under .tmp (a copy of package.json among them).
  modulePathIgnorePatterns: ["<rootDir>/.tmp/", "<rootDir>/dist/"],
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
      testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/node/"],
      globalSetup: "<rootDir>/test/setup/global-setup.ts",
      globalTeardown: "<rootDir>/test/setup/global-teardown.ts",
    },
    // Tests with running pods: a second local cluster with a node (kubelet, containerd), on which
    // meshid runs from its own image as manifests/default installs it. Needs root.
    {
      ...shared,
      displayName: "node",
      testMatch: ["<rootDir>/test/node/**/*.test.ts"],
      setupFiles: [...shared.setupFiles, "<rootDir>/test/setup/node-env.ts"],
      globalSetup: "<rootDir>/test/setup/node-global-setup.ts",
      globalTeardown: "<rootDir>/test/setup/node-global-teardown.ts",
    },
  ],
};
