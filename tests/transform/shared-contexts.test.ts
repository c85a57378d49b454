// The transform's proof that an HttpContext holds nothing per stream (transform/shared-contexts.ts): which
// classes it lets their root's streams share, and what it leaves alone. Each case is parsed as a filter's
// entry file; the streams' behaviour is in tests/sdk/shared-contexts.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Parser, type CallExpression, type ClassDeclaration, type MethodDeclaration, type ReturnStatement } from "assemblyscript";
import { everyStreamShared, shareHttpContexts } from "../../transform/shared-contexts.js";

const HEAD = 'import { FilterHeadersStatus, HttpContext, RootContext } from "proxy-wasm-as";\n';

/** A root whose createHttpContext is `body`, and `context`, the stream class it creates. */
function filter(context: string, body = "return new Stream(contextId, this);"): string {
  return `${HEAD}class Root extends RootContext {
  name: string = "x";
  createHttpContext(contextId: u32): HttpContext { ${body} }
}
${context}`;
}

function parse(text: string) {
  const parser = new Parser();
  parser.parseFile(text, "assembly/index.ts", true);
  assert.equal(parser.diagnostics.length, 0, "the case must parse");
  return parser.sources;
}

function shared(text: string): string[] {
  return shareHttpContexts(parse(text));
}

const PLAIN = `class Stream extends HttpContext {
  constructor(id: u32, readonly plugin: Root) { super(id, plugin); }
  onResponseHeaders(n: u32, end: bool): FilterHeadersStatus {
    this.responseHeaders.add("a", this.plugin.name);
    return FilterHeadersStatus.Continue;
  }
}`;

describe("transform: HttpContexts shared by their root's streams", () => {
  it("shares add-header's shape: a readonly root parameter passed to super, methods reading through this", () => {
    assert.deepEqual(shared(filter(PLAIN)), ["Stream"]);
  });

  it("wraps the `new` of createHttpContext in shareableHttpContext, and only that", () => {
    const sources = parse(filter(PLAIN));
    shareHttpContexts(sources);
    const root = sources[0].statements.find((s) => (s as ClassDeclaration).name?.text === "Root") as ClassDeclaration;
    const method = root.members.find((m) => m.name.text === "createHttpContext") as MethodDeclaration;
    const value = ((method.body as unknown as { statements: ReturnStatement[] }).statements[0]).value as CallExpression;
    assert.equal((value.expression as unknown as { text: string }).text, "shareableHttpContext");
    assert.equal(value.args.length, 1);
  });

  it("shares a class without a constructor, with plain constructor parameters, static members, getters and super calls", () => {
    assert.deepEqual(shared(filter("class Stream extends HttpContext { onLog(): void { super.onLog(); } }")), ["Stream"]);
    const plain = `class Stream extends HttpContext {
  static created: u32 = 0;
  constructor(id: u32, root: Root) { super(id, root); }
  get label(): string { return this.root.id.toString(); }
  static describe(): string { return "stream"; }
}`;
    assert.deepEqual(shared(filter(plain)), ["Stream"]);
  });

  it("leaves a class with state per stream alone", () => {
    const cases = [
      "class Stream extends HttpContext { seen: u32 = 0; }",
      // Assignable: a method could point it elsewhere for one stream.
      "class Stream extends HttpContext { constructor(id: u32, public plugin: Root) { super(id, plugin); } }",
      "class Stream extends HttpContext { constructor(id: u32, readonly plugin: Root) { super(id, plugin); log(id); } }",
      "class Stream extends HttpContext { constructor(id: u32, readonly plugin: Root) { super(7, plugin); } }",
      "class Stream extends HttpContext { constructor(id: u32, root: Root, readonly extra: u32) { super(id, root); } }",
    ];
    for (const context of cases) assert.deepEqual(shared(filter(context)), [], context);
  });

  it("leaves a class alone whose `this` leaves a member access, or that makes callouts", () => {
    const cases = [
      "class Stream extends HttpContext { onLog(): void { remember(this); } }",
      "class Stream extends HttpContext { onLog(): void { const me = this; } }",
      "class Stream extends HttpContext { me(): Stream { return this; } }",
      "class Stream extends HttpContext { onLog(): void { this.root.name = this.id == 1 ? 'a' : 'b'; keep(this == other); } }",
      "class Stream extends HttpContext { onLog(): void { this.httpCall<Stream>('c', [], null, [], 5, done); } }",
      "class Stream extends HttpContext { onLog(): void { super.grpcCall<Stream>('c', 's', 'm', [], new ArrayBuffer(0), 5, done); } }",
      "class Stream extends HttpContext { onLog(): void { this.openGrpcStream('c', 's', 'm', [], handler); } }",
    ];
    for (const context of cases) assert.deepEqual(shared(filter(context)), [], context);
  });

  it("leaves a createHttpContext alone that does more than `return new X(contextId, this)`", () => {
    const bodies = [
      "if (contextId == 1) return null; return new Stream(contextId, this);",
      "return new Stream(contextId + 1, this);",
      "return new Stream(contextId, other);",
      "const s = new Stream(contextId, this); return s;",
    ];
    for (const body of bodies) assert.deepEqual(shared(filter("class Stream extends HttpContext {}", body)), [], body);
  });

  it("leaves classes alone that may not be the SDK's HttpContext, or are declared twice", () => {
    assert.deepEqual(shared(filter("class Stream extends Base {}\nclass Base extends HttpContext {}")), []);
    assert.deepEqual(shared(filter("class Stream extends HttpContext {}\nclass HttpContext {}")), []);
    assert.deepEqual(shared(filter("class Stream extends HttpContext {}\nnamespace n { class Stream extends HttpContext { seen: u32 = 0; } }")), []);
    assert.deepEqual(shared(filter("@final class Stream extends HttpContext {}")), []);
    assert.deepEqual(shared(filter("class Stream extends HttpContext { @operator('==') eq(other: Stream): bool { return true; } }")), []);
  });

  it("says every stream shares only when each createHttpContext was proven and no root creates TCP contexts", () => {
    const everyShared = (text: string) => {
      const sources = parse(text);
      shareHttpContexts(sources);
      return everyStreamShared(sources);
    };
    assert.equal(everyShared(filter(PLAIN)), true);
    // A root that creates no stream at all (ticks, queues) leaves nothing to free either.
    assert.equal(everyShared(`${filter(PLAIN)}\nclass Service extends RootContext { onTick(): void {} }`), true);
    assert.equal(everyShared(filter("class Stream extends HttpContext { seen: u32 = 0; }")), false);
    assert.equal(everyShared(filter("class Stream extends HttpContext {}", "if (contextId == 1) return null; return new Stream(contextId, this);")), false);
    const tcp = `${filter(PLAIN)}
class TcpRoot extends RootContext { createStreamContext(contextId: u32): StreamContext { return new Tcp(contextId, this); } }
class Tcp extends StreamContext {}`;
    assert.equal(everyShared(tcp), false);
  });
});
