// Envoy's load-time checks on a fetched module, as pull and inspect report them: the host's
// Envoy-ready check (host/module.ts), except for its own policy on ABI 0.1.0. cpp-host still loads
// 0.1.0 modules (older Rust and C++ SDKs emit them), so that is no reason to say Istio would not.
import { checkModule } from "../host/module.js";

export interface EnvoyVerdict {
  ok: boolean;
  abiVersion: string | null;
  problems: string[];
  /** What the check could not cover. */
  notes: string[];
}

export function envoyVerdict(wasm: Buffer): EnvoyVerdict {
  const check = checkModule(wasm);
  if (check.abiVersion !== "0.1.0") return { ok: check.ok, abiVersion: check.abiVersion, problems: check.problems, notes: [] };
  const problems = check.problems.filter((problem) => !problem.includes("proxy_abi_version_0_1_0"));
  return {
    ok: problems.length === 0,
    abiVersion: check.abiVersion,
    problems,
    notes: ["Proxy-Wasm ABI 0.1.0: Envoy loads it; its imports were not checked (this SDK's host checks 0.2.x)"],
  };
}
