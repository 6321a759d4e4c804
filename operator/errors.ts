/**
 * The operator's error base is the project's one MeshIdError (api/errors.ts); errorText is the one
 * way to turn anything thrown into a message for a log field, status or Event.
 */
export { MeshIdError } from "../api/errors";

/** errorText is the message of an Error, or the text of anything else that was thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
