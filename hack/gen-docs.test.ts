import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigurationDoc, tableText, withPermissionTable } from "./gen-docs";
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

describe("withPermissionTable", () => {
  it("matches the permission table committed in docs/security.md (run make manifests)", () => {
    const doc = readFileSync(join(__dirname, "..", "docs", "security.md"), "utf8");
    expect(tableText(withPermissionTable(doc))).toBe(tableText(doc));
  });

  it("notices a permission missing from the committed table", () => {
    const doc = readFileSync(join(__dirname, "..", "docs", "security.md"), "utf8");
    const tampered = doc.replace(/^\|[^\n]*core\/pods[^\n]*\n/m, "");
    expect(tampered).not.toBe(doc);
    expect(tableText(withPermissionTable(tampered))).not.toBe(tableText(tampered));
  });
});
