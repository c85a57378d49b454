// A filter must register a root context: without one, the SDK creates none and Envoy refuses the
// plugin at start. The build says so instead, and the module carries no run-time check for it.

const REGISTRATIONS = ["registerRootContext", "registerNamedRootContext"];

export const NO_ROOT_CONTEXT = "the filter registers no root context: call registerRootContext(...) from its entry file";

/** Whether the user's code names a root context registration. */
export function registersRootContext(userIdentifiers: Set<string>): boolean {
  return REGISTRATIONS.some((name) => userIdentifiers.has(name));
}
