import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigurationDoc } from "./gen-docs";
import { options } from "../operator/config";

describe("renderConfigurationDoc", () => {
  it("matches the committed docs/configuration.md (run make manifests after changing a flag)", () => {
    expect(readFileSync(join(__dirname, "..", "docs", "configuration.md"), "utf8")).toBe(
      renderConfigurationDoc(),
    );
  });

  it("documents every flag and its environment variable", () => {
    const doc = renderConfigurationDoc();
    for (const o of options) expect(doc).toContain(`| \`${o.flag}\` | \`${o.env}\` |`);
  });
});
