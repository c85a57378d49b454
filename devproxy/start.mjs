// `npm start`: serve the add-header example on http://127.0.0.1:10000 and the prime-token
// authorizer on :10001, both in front of the built-in echo upstream, until Ctrl-C.
// (`npm start` compiles the CLI and builds both examples first.) PORT=20000 npm start moves both ports.
import { fileURLToPath } from "node:url";
import { DevProxy } from "../dist/devproxy/proxy.js";

const example = (name) => fileURLToPath(new URL(`../examples/${name}/build/plugin.wasm`, import.meta.url));
const port = Number(process.env.PORT ?? 10000);
// As Envoy starts a plugin: a configuration canary, then the worker's own VM.
const vms = { concurrency: 1 };
const proxies = [
  new DevProxy({ filters: [{ path: example("add-header") }], port, adminPort: 9901, vms }),
  new DevProxy({ filters: [{ path: example("prime-authorizer") }], port: port + 1, adminPort: null, vms }),
];
try {
  for (const proxy of proxies) await proxy.start();
} catch (e) {
  process.stderr.write(`npm start: ${e.message}\n`);
  await Promise.all(proxies.map((p) => p.stop()));
  process.exit(1);
}
const [addHeader, authorizer] = proxies;
const tries = [
  [`curl -i ${addHeader.url}/`, 'add-header: the response has "hello: world"'],
  [`curl -i ${authorizer.url}/ -H 'token: 13'`, "prime-authorizer: 13 is prime, 200 from the echo upstream"],
  [`curl -i ${authorizer.url}/ -H 'token: 15'`, '15 is not: 403 "Access forbidden."'],
  [`curl ${addHeader.adminUrl}/stats`, "metrics, Prometheus text"],
];
const width = Math.max(...tries.map(([c]) => c.length)) + 2;
process.stdout.write(
  `\nTry it (Ctrl-C stops):\n${tries.map(([c, what]) => `  ${c.padEnd(width)}# ${what}\n`).join("")}` +
    "\nYour own filter: npx proxy-wasm-as init my-filter, or npx proxy-wasm-as run path/to/plugin.wasm --watch\n\n",
);
const stop = async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  process.stdout.write("stopped\n");
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
