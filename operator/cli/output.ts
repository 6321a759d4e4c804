/** Rendering for kubectl-meshid: kubectl-style tables, JSON and YAML. */
import { stringify } from "yaml";
import { formatTime } from "../../api/v1alpha1/conditions";
import type { OutputFormat } from "./args";

/** none is what a table shows for a missing value, as kubectl does. */
const none = "<none>";

/** Column is one table column: its header and how to read a row's cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string | undefined;
  /** wide columns appear only with -o wide. */
  wide?: boolean;
}

/** renderTable lays rows out in columns separated by three spaces, headers in capitals. */
export function renderTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  wide: boolean,
): string {
  const shown = columns.filter((c) => wide || !c.wide);
  const cells = [
    shown.map((c) => c.header),
    ...rows.map((r) => shown.map((c) => c.cell(r) || none)),
  ];
  const widths = shown.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells
    .map((line) =>
      line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join("   "),
    )
    .join("\n")
    .concat("\n");
}

/** renderData renders a value as JSON or YAML; dates become RFC 3339 strings. */
export function renderData(value: unknown, format: Extract<OutputFormat, "json" | "yaml">): string {
  const plain = JSON.parse(JSON.stringify(value)) as unknown;
  return format === "json"
    ? `${JSON.stringify(plain, null, 2)}\n`
    : stringify(plain, { lineWidth: 0 });
}

/** rfc3339 renders a time as Kubernetes does: UTC, whole seconds. */
export function rfc3339(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = typeof t === "string" ? new Date(t) : t;
  return Number.isNaN(d.getTime()) ? undefined : formatTime(d);
}
