// Every command fails the same way: one line on stderr naming the command and the reason, exit code 1.

export function reportErrors<A extends unknown[]>(command: string, action: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(`proxy-wasm-as ${command}: ${reason.split("\n")[0]}\n`);
      process.exitCode = 1;
    }
  };
}
