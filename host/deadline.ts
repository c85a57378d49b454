// Stops a callback that runs past its deadline. Wasm runs synchronously on the test's thread,
// so nothing else can run meanwhile; Node's vm module can still end it: a script run with a
// `timeout` is watched from another thread, which terminates the isolate's execution (wasm
// included) when the time is up. The watchdog costs a thread per call (tens of microseconds, see
// host/README.md), so it is only used when a deadline is set, and only for the outermost callback.

import { createContext, Script } from "node:vm";

/** Thrown when a callback ran past its deadline; the VM that ran it is failed. */
export class DeadlineExceeded extends Error {
  constructor(readonly elapsedMs: number) {
    super(`callback ran past its deadline (${elapsedMs} ms)`);
  }
}

/** The deadline under a test runner and in simulate: far above any real callback. */
export const DEFAULT_CALLBACK_DEADLINE_MS = 10_000;

/**
 * The deadline a plugin gets when its options name none: PROXY_WASM_AS_CALLBACK_DEADLINE_MS
 * from the environment (0 = none) if set; else DEFAULT_CALLBACK_DEADLINE_MS under node's test
 * runner (NODE_TEST_CONTEXT), where a hang costs most; else none, keeping the watchdog off the
 * hot path of the dev proxy, benchmarks and scripts.
 */
export function defaultCallbackDeadlineMs(): number {
  const given = process.env.PROXY_WASM_AS_CALLBACK_DEADLINE_MS;
  if (given !== undefined && given !== "") return Number(given);
  return process.env.NODE_TEST_CONTEXT ? DEFAULT_CALLBACK_DEADLINE_MS : 0;
}

type Callback = (...args: unknown[]) => unknown;

const sandbox = createContext({ run: null as null | (() => unknown) });
const runScript = new Script("run()");

/** Calls `fn(...args)`; throws DeadlineExceeded if it runs longer than `deadlineMs`. */
export function callWithDeadline(deadlineMs: number, fn: Callback, ...args: unknown[]): unknown {
  const started = performance.now();
  sandbox.run = () => fn(...args);
  try {
    return runScript.runInContext(sandbox, { timeout: deadlineMs });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
      throw new DeadlineExceeded(Math.round(performance.now() - started));
    }
    throw error;
  } finally {
    sandbox.run = null;
  }
}
