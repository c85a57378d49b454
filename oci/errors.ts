/** An error whose message is a complete one-line reason, fit to print to the user as is. */
export class OciError extends Error {
  override name = "OciError";
}
