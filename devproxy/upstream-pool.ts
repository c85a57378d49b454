// The upstream connection pools: one per origin (and response header limit) in each thread, kept
// alive across requests as Envoy's cluster connection pools are. Origins come from the options
// (--upstream, clusters), never from a request. Idle connections do not keep a thread alive.

import { Pool } from "undici";

const pools = new Map<string, Pool>();

export function poolFor(origin: string, maxHeaderBytes: number): Pool {
  const key = `${origin} ${maxHeaderBytes}`;
  let pool = pools.get(key);
  if (!pool) {
    // No timeouts of undici's own: the route timeout (--route-timeout) is the one, as in Envoy's router.
    pool = new Pool(origin, { maxHeaderSize: maxHeaderBytes, headersTimeout: 0, bodyTimeout: 0 });
    pools.set(key, pool);
  }
  return pool;
}
