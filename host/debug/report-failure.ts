// The testing API's echo of a VM failure: Envoy writes it to its log (critical/error) when it happens; a test
// runner shows stderr beside the failing test, so a trap that breaks an assertion later is seen with its line.

/** Writes the failure, after the abort reason the failing callback logged at critical, to stderr. */
export function reportFailure(failure: string, critical: string | null): void {
  const reason = critical === null ? "" : `critical: ${critical}\n`;
  process.stderr.write(`[proxy-wasm-as] plugin VM failed:\n${reason}${failure}\n`);
}
