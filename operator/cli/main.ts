#!/usr/bin/env node
/**
 * kubectl-meshid: the kubectl plugin of meshid (`kubectl meshid ...`). Exit codes: 0 success,
 * 1 failure (API error, missing object, a chain that does not verify), 2 a bad command line.
 */
import "reflect-metadata";
import { checkArguments, parseArgs, UsageError, type Command } from "./args";
import { runInspect, runInventory, runRenew, runStatus, type CommandContext } from "./commands";
import { helpText } from "./help";
import { CliError, connect, contextNamespace, loadKubeConfig } from "./kube";

const run: Record<Command, (ctx: CommandContext) => Promise<number>> = {
  status: runStatus,
  inventory: runInventory,
  inspect: runInspect,
  renew: runRenew,
};

/** main runs one command line and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (text: string) => void process.stdout.write(text);
  try {
    const inv = parseArgs(argv);
    if (inv.help) {
      out(helpText(inv.command));
      return 0;
    }
    if (!inv.command) {
      process.stderr.write(`error: a command is needed\n\n${helpText()}`);
      return 2;
    }
    checkArguments(inv);
    const kc = loadKubeConfig(inv);
    const ctx: CommandContext = {
      inv,
      cluster: connect(kc),
      namespace: inv.namespace ?? contextNamespace(kc),
      io: { out, now: () => new Date() },
    };
    return await run[inv.command](ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(
        `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
