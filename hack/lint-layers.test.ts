/**
 * The layers of docs/architecture.md are ESLint rules (eslint.config.mjs). This test plants one
 * violation of each boundary in the real tree, runs the project's ESLint on the planted files,
 * and expects each to be refused with its message, and a legal type import to pass.
 */
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

jest.setTimeout(120_000);

const root = join(__dirname, "..");
const tag = `lint-probe-${process.pid}`;

/** Each case: where the file is planted, its code, and the message expected (or none). */
const cases: [string, string, string, RegExp | undefined][] = [
  [
    "crypto outside pki",
    "operator/controllers",
    `import { createHash } from "node:crypto";\nexport const x = createHash;\n`,
    /Crypto lives in operator\/pki\/ only/,
  ],
  [
    "pkijs outside pki",
    "operator/kube",
    `import * as pkijs from "pkijs";\nexport const x = pkijs;\n`,
    /Crypto lives in operator\/pki\/ only/,
  ],
  [
    "client-node values outside kube",
    "operator/controllers",
    `import { CoreV1Api } from "@kubernetes/client-node";\nexport const x = CoreV1Api;\n`,
    /API I\/O lives in operator\/kube\//,
  ],
  [
    "http in a controller",
    "operator/controllers",
    `import * as http from "node:http";\nexport const x = http;\n`,
    /HTTP lives in/,
  ],
  [
    "the framework in the webhook",
    "operator/webhook",
    `import Operator from "@dot-i/k8s-operator";\nexport const x = Operator;\n`,
    /The framework is wired in/,
  ],
  [
    "kube in policy",
    "operator/policy",
    `import { KubeClient } from "../kube/client";\nexport const x = KubeClient;\n`,
    /policy\/ is pure/,
  ],
  [
    "pki in policy",
    "operator/policy",
    `import { generateKey } from "../pki";\nexport const x = generateKey;\n`,
    /policy\/ is pure/,
  ],
  [
    "the clock in policy",
    "operator/policy",
    `import { systemClock } from "../clock";\nexport const x = systemClock;\n`,
    /policy\/ is pure/,
  ],
  [
    "the logger in policy",
    "operator/policy",
    `import { createLogger } from "../logger";\nexport const x = createLogger;\n`,
    /policy\/ is pure/,
  ],
  [
    "Math.random in policy",
    "operator/policy",
    `export const x = Math.random();\n`,
    /policy\/ takes randomness as an input/,
  ],
  [
    "operator from api",
    "api",
    `import { errorText } from "../operator/errors";\nexport const x = errorText;\n`,
    /api\/ is the lowest layer/,
  ],
  [
    "a type import of client-node in a controller (allowed)",
    "operator/controllers",
    `import type { V1Pod } from "@kubernetes/client-node";\nexport type X = V1Pod;\n`,
    undefined,
  ],
];

interface LintResult {
  filePath: string;
  messages: { ruleId: string | null; message: string }[];
}

describe("the layer rules", () => {
  const files = cases.map(([, dir], i) => join(root, dir, `${tag}-${i}.ts`));
  let results: Map<string, LintResult["messages"]>;

  beforeAll(async () => {
    cases.forEach(([, , code], i) => writeFileSync(files[i]!, code));
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          join(root, "node_modules", ".bin", "eslint"),
          ["--format", "json", "--no-warn-ignored", ...files],
          { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 110_000 },
          (err, stdout, stderr) => {
            // ESLint exits 1 when it finds problems: that is the expected outcome here.
            if (stdout) resolve(stdout);
            else reject(err ?? new Error(stderr));
          },
        ),
      );
      results = new Map(
        (JSON.parse(out) as LintResult[]).map((r) => [r.filePath, r.messages] as const),
      );
    } finally {
      for (const f of files) rmSync(f, { force: true });
    }
  });

  it.each(cases.map((c, i) => [c[0], i, c[3]] as const))("judge %s", (_name, i, expected) => {
    const messages = results.get(files[i]!) ?? [];
    const text = messages.map((m) => `${m.ruleId}: ${m.message}`).join("\n");
    if (expected) expect(text).toMatch(expected);
    else expect(text).toBe("");
  });
});
