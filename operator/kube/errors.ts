/**
 * API errors translated once: every call into the API server goes through `translate`, so the
 * rest of the operator sees typed errors with a stable code and a retryable flag.
 */
import { MeshIdError } from "../errors";

/** ApiError is a failed API request: status code, reason and the server's message. */
export class ApiError extends MeshIdError {
  constructor(
    readonly statusCode: number | undefined,
    readonly reason: string,
    message: string,
    cause?: unknown,
  ) {
    super(
      `Api${reason}`,
      message,
      // Conflicts, throttling, server errors and network failures heal on their own.
      {
        retryable:
          statusCode === undefined || statusCode === 409 || statusCode === 429 || statusCode >= 500,
        cause,
      },
    );
  }
}

/** isNotFound tells whether err is an API 404. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}

/** isConflict tells whether err is an API 409 (AlreadyExists or a stale resourceVersion). */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 409;
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
}

/** translate turns a client-node or network error into an ApiError. */
function translate(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as {
    statusCode?: number;
    body?: unknown;
    response?: { statusCode?: number };
    message?: string;
    code?: string;
  };
  const statusCode = e?.statusCode ?? e?.response?.statusCode;
  const body = (typeof e?.body === "object" && e.body !== null ? e.body : {}) as StatusBody;
  if (statusCode === undefined) {
    const detail = e?.code ?? e?.message ?? String(err);
    return new ApiError(
      undefined,
      "Unreachable",
      `${what}: API server unreachable (${detail})`,
      err,
    );
  }
  const reason = body.reason ?? `Status${statusCode}`;
  return new ApiError(statusCode, reason, `${what}: ${statusCode} ${body.message ?? reason}`, err);
}

/** call runs one API request and translates its failure. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err, what);
  }
}
