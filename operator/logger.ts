/**
 * Logging: winston JSON lines on stdout. The level is validated and case-insensitive
 * (winston silently logs nothing for an unknown or upper-case level); reconcilers log through a
 * child logger carrying {controller, namespace, name}. Never log key material.
 */
import winston from "winston";

/** Logger is the logging port: what the operator's code needs of winston. */
export type Logger = Pick<winston.Logger, "error" | "warn" | "info" | "debug" | "child">;

/** logLevels are the accepted levels, most severe first. */
export const logLevels = ["error", "warn", "info", "debug"] as const;

/** LogLevel is one of logLevels. */
export type LogLevel = (typeof logLevels)[number];

/** parseLogLevel normalises a level name, or returns undefined when it is not one of logLevels. */
export function parseLogLevel(input: string): LogLevel | undefined {
  const level = input.trim().toLowerCase();
  return (logLevels as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
}

/** createLogger returns the process logger writing JSON lines to stdout. */
export function createLogger(level: LogLevel, stream?: NodeJS.WritableStream): winston.Logger {
  const transport = stream
    ? new winston.transports.Stream({ stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [transport],
  });
}

/** frameworkLogger adapts a Logger to @dot-i/k8s-operator's logger, tagging its messages. */
export function frameworkLogger(log: Logger) {
  const meta = { component: "framework" };
  return {
    debug: (m: string) => log.debug(m, meta),
    info: (m: string) => log.info(m, meta),
    warn: (m: string) => log.warn(m, meta),
    error: (m: string) => log.error(m, meta),
  };
}
