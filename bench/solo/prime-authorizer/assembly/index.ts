// prime-authorizer with @solo-io/proxy-runtime 0.1.8 (AssemblyScript 0.14): exactly one `token`
// request header holding a prime plain-decimal u64, else a 403 local reply `Access forbidden.`.
// Root id "prime_authorizer"; the configuration must be non-empty for that SDK (it is not read).
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context, send_local_response,
  GrpcStatusValues, Headers,
} from "@solo-io/proxy-runtime";

class AuthorizerRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Authorizer(context_id, this);
  }
}

class Authorizer extends Context {
  constructor(context_id: u32, root_context: AuthorizerRoot) {
    super(context_id, root_context);
  }
  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const headers = stream_context.headers.request.get_headers();
    let count = 0;
    let token = "";
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i];
      if (String.UTF8.decode(pair.key).toLowerCase() == "token") {
        count++;
        token = String.UTF8.decode(pair.value);
      }
    }
    if (count == 1) {
      const parsed = parseDecimalU64(token);
      if (parsed.ok && isPrime(parsed.value)) return FilterHeadersStatusValues.Continue;
    }
    send_local_response(403, "", String.UTF8.encode("Access forbidden."), [] as Headers, -1 as GrpcStatusValues);
    return FilterHeadersStatusValues.StopIteration;
  }
}

class U64Result {
  constructor(public value: u64, public ok: bool) {}
}

function parseDecimalU64(text: string): U64Result {
  let n = text.length;
  if (!n) return new U64Result(0, false);
  let value: u64 = 0;
  for (let i = 0; i < n; ++i) {
    let digit = <u32>text.charCodeAt(i) - 0x30;
    if (digit > 9 || value > (u64.MAX_VALUE - digit) / 10) return new U64Result(0, false);
    value = value * 10 + digit;
  }
  return new U64Result(value, true);
}

const BASES: u64[] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

function isPrime(n: u64): bool {
  for (let i = 0, k = BASES.length; i < k; ++i) {
    let p = unchecked(BASES[i]);
    if (n == p) return true;
    if (n % p == 0) return false;
  }
  if (n < 41 * 41) return n > 1;
  let m = new Montgomery(n);
  let s = ctz(n - 1);
  let d = (n - 1) >> s;
  let one = m.one;
  let minusOne = n - one;
  for (let i = 0, k = BASES.length; i < k; ++i) {
    let x = m.pow(m.from(unchecked(BASES[i])), d);
    if (x == one || x == minusOne) continue;
    let witness = true;
    for (let r: u64 = 1; r < s; ++r) {
      x = m.mul(x, x);
      if (x == minusOne) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}

class Montgomery {
  inverse: u64;
  one: u64;
  r2: u64;
  n: u64;

  constructor(n: u64) {
    this.n = n;
    let inverse = n;
    for (let i = 0; i < 5; ++i) inverse *= 2 - n * inverse;
    this.inverse = inverse;
    let one = (0 - n) % n;
    this.one = one;
    let r2 = one;
    for (let i = 0; i < 64; ++i) {
      let sum = r2 + r2;
      r2 = sum < r2 || sum >= n ? sum - n : sum;
    }
    this.r2 = r2;
  }

  from(x: u64): u64 {
    return this.mul(x % this.n, this.r2);
  }

  @inline mul(a: u64, b: u64): u64 {
    let n = this.n;
    let high = mulHigh(a, b);
    let m = a * b * this.inverse;
    let mnHigh = mulHigh(m, n);
    let r = high - mnHigh;
    return high < mnHigh ? r + n : r;
  }

  pow(x: u64, e: u64): u64 {
    let result = this.one;
    while (e) {
      if (e & 1) result = this.mul(result, x);
      x = this.mul(x, x);
      e >>= 1;
    }
    return result;
  }
}

@inline function mulHigh(a: u64, b: u64): u64 {
  let aLow = a & 0xFFFFFFFF;
  let aHigh = a >> 32;
  let bLow = b & 0xFFFFFFFF;
  let bHigh = b >> 32;
  let lowHigh = aLow * bHigh;
  let highLow = aHigh * bLow;
  let middle = ((aLow * bLow) >> 32) + (lowHigh & 0xFFFFFFFF) + (highLow & 0xFFFFFFFF);
  return aHigh * bHigh + (lowHigh >> 32) + (highLow >> 32) + (middle >> 32);
}

registerRootContext((context_id: u32): RootContext => { return new AuthorizerRoot(context_id); }, "prime_authorizer");
