// The upstream connection pools: one per origin (and response header limit) in each thread, kept
// alive across requests as Envoy's cluster connection pools are. Origins come from the options
// (--upstream, clusters), never from a request. Idle connections do not keep a thread alive.

import { Pool } from "undici";

/** By origin, then by response header limit: no key string built per request. */
const pools = new Map<string, Map<number, Pool>>();

export function poolFor(origin: string, maxHeaderBytes: number): Pool {
  let byLimit = pools.get(origin);
  if (!byLimit) pools.set(origin, (byLimit = new Map()));
  let pool = byLimit.get(maxHeaderBytes);
  if (!pool) {
    // No timeouts of undici's own: the route timeout (--route-timeout) is the one, as in Envoy's router.
    pool = new Pool(origin, { maxHeaderSize: maxHeaderBytes, headersTimeout: 0, bodyTimeout: 0 });
    byLimit.set(maxHeaderBytes, pool);
  }
  return pool;
}
