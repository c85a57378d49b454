// Shareable HTTP contexts. A root context's createHttpContext that reads `return new X(contextId, this);`,
// where X holds nothing per stream, needs no object per stream: the SDK can serve all the root's streams
// with one X whose id it sets on entry to each callback (assembly/dispatcher/shared-streams.ts). This
// proves it from the parsed source and wraps that `new` in `shareableHttpContext(...)`, which tells the
// SDK; anything the proof does not cover keeps an object per stream. X qualifies when:
// - it extends the SDK's HttpContext directly (no user class is named HttpContext) and has no decorators;
// - its only instance fields are readonly constructor parameters, and its constructor (if any) is exactly
//   `super(<first parameter>, <second parameter>)`: it holds the id and the root it was given, and its
//   root is always the one that creates it (`this` in the root's createHttpContext);
// - in its methods, `this` and `super` appear only as `this.member` / `super.member`, never passed, stored or
//   returned, and the member is not a callout (httpCall, grpcCall, openGrpcStream), whose answer arrives by
//   the stream's id after its callback ended.
import type {
  BlockStatement, CallExpression, ClassDeclaration, ExpressionStatement, FieldDeclaration, FunctionDeclaration, IdentifierExpression, MethodDeclaration,
  NamedTypeNode, NewExpression, Node, ParameterNode, PropertyAccessExpression, ReturnStatement, Source,
} from "assemblyscript";
import { Node as AstNode } from "assemblyscript";
import { walk, walkSources } from "./ast.js";
import { Flag, Kind } from "./kinds.js";

const SDK_BASE = "HttpContext";
const FACTORY = "createHttpContext";
const WRAPPER = "shareableHttpContext";
/** Context methods whose answer comes back later by the context's id (assembly/context/context.ts). */
const CALLOUTS = new Set(["httpCall", "grpcCall", "openGrpcStream"]);

function classesByName(sources: Source[]): Map<string, ClassDeclaration[]> {
  const classes = new Map<string, ClassDeclaration[]>();
  walkSources(sources, (node) => {
    if (node.kind !== Kind.ClassDeclaration) return;
    const declaration = node as ClassDeclaration;
    const name = declaration.name.text;
    classes.set(name, [...(classes.get(name) ?? []), declaration]);
  });
  return classes;
}

function isMethod(member: Node): member is MethodDeclaration {
  return member.kind === Kind.MethodDeclaration;
}

function isStatic(member: { flags: number }): boolean {
  return (member.flags & Flag.Static) !== 0;
}

function identifierIs(node: Node | null, name: string): boolean {
  return node !== null && node.kind === Kind.Identifier && (node as IdentifierExpression).text === name;
}

/** The constructor holds the id and the root and does nothing else: none, or exactly `super(a, b)` of its two parameters. */
function plainConstructor(declaration: ClassDeclaration): boolean {
  const constructor = declaration.members.find((member) => isMethod(member) && member.name.text === "constructor") as MethodDeclaration | undefined;
  if (!constructor) return true;
  const parameters: ParameterNode[] = constructor.signature.parameters;
  const body = constructor.body as BlockStatement | null;
  if (parameters.length !== 2 || !body || body.kind !== Kind.Block || body.statements.length !== 1) return false;
  const statement = body.statements[0];
  if (statement.kind !== Kind.Expression) return false;
  const call = (statement as ExpressionStatement).expression as CallExpression;
  if (call.kind !== Kind.Call || call.expression.kind !== Kind.Super || call.args.length !== 2) return false;
  return identifierIs(call.args[0], parameters[0].name.text) && identifierIs(call.args[1], parameters[1].name.text);
}

/** Instance fields: only readonly constructor parameters (`readonly plugin: MyRoot`). */
function fieldsAreParameters(declaration: ClassDeclaration): boolean {
  const constructor = declaration.members.find((member) => isMethod(member) && member.name.text === "constructor") as MethodDeclaration | undefined;
  const implicit = new Set<Node>((constructor?.signature.parameters ?? []).map((parameter: ParameterNode) => parameter.implicitFieldDeclaration as Node));
  return declaration.members.every((member) => {
    if (member.kind !== Kind.FieldDeclaration || isStatic(member as FieldDeclaration)) return true;
    return implicit.has(member) && ((member as FieldDeclaration).flags & Flag.Readonly) !== 0;
  });
}

/** Every `this` and `super` under `node` is the object of a member access that is not a callout. */
function thisStaysHome(node: Node): boolean {
  let ok = true;
  const accessed = new Set<Node>();
  walk(node, (child) => {
    if (child.kind !== Kind.PropertyAccess) return;
    const access = child as PropertyAccessExpression;
    if (access.expression.kind === Kind.This || access.expression.kind === Kind.Super) {
      accessed.add(access.expression);
      if (CALLOUTS.has(access.property.text)) ok = false;
    }
  });
  walk(node, (child) => {
    if ((child.kind === Kind.This || child.kind === Kind.Super) && !accessed.has(child)) ok = false;
  });
  return ok;
}

function isShareableClass(declaration: ClassDeclaration): boolean {
  const base = declaration.extendsType as NamedTypeNode | null;
  if (!base || base.name.next || base.name.identifier.text !== SDK_BASE || base.typeArguments?.length) return false;
  if (declaration.decorators?.length || declaration.typeParameters?.length) return false;
  if (!plainConstructor(declaration) || !fieldsAreParameters(declaration)) return false;
  return declaration.members.every((member) => {
    if (member.kind === Kind.FieldDeclaration) return true;
    if (!isMethod(member)) return false;
    if (isStatic(member) || member.name.text === "constructor") return true;
    return !member.decorators?.length && (!member.body || thisStaysHome(member.body));
  });
}

/** `return new X(contextId, this);`, the whole body of a createHttpContext: its `new`, else null. */
function createdInstance(method: MethodDeclaration): NewExpression | null {
  const body = method.body as BlockStatement | null;
  const parameters: ParameterNode[] = method.signature.parameters;
  if (!body || body.kind !== Kind.Block || body.statements.length !== 1 || parameters.length !== 1) return null;
  const statement = body.statements[0] as ReturnStatement;
  if (statement.kind !== Kind.Return || !statement.value || statement.value.kind !== Kind.New) return null;
  const created = statement.value as NewExpression;
  if (created.typeArguments?.length || created.args.length !== 2 || created.args[1].kind !== Kind.This) return null;
  return identifierIs(created.args[0], parameters[0].name.text) ? created : null;
}

/** Wraps each proven `new X(contextId, this)` of the user's createHttpContext methods; returns the classes X. */
export function shareHttpContexts(userSources: Source[]): string[] {
  const classes = classesByName(userSources);
  // A class of the user's named like the SDK's base would make `extends HttpContext` mean something else.
  if (classes.has(SDK_BASE)) return [];
  const shared: string[] = [];
  for (const [, declarations] of classes) {
    for (const root of declarations) {
      for (const member of root.members) {
        if (!isMethod(member) || isStatic(member) || member.name.text !== FACTORY) continue;
        const created = createdInstance(member);
        if (!created || created.typeName.next) continue;
        const name = created.typeName.identifier.text;
        const candidates = classes.get(name);
        if (candidates?.length !== 1 || !isShareableClass(candidates[0])) continue;
        const statement = (member.body as BlockStatement).statements[0] as ReturnStatement;
        statement.value = AstNode.createCallExpression(
          AstNode.createIdentifierExpression(WRAPPER, created.range), null, [created], created.range);
        shared.push(name);
      }
    }
  }
  return shared;
}

const STREAM_FACTORY = "createStreamContext";
const SHARED_STREAMS = "assembly/dispatcher/shared-streams.ts";
const DELETED_FLAG = "streamsGetDeleted";

/** Whether `method`'s body is the one statement `return shareableHttpContext(...)`, as shareHttpContexts leaves a proven factory. */
function returnsShareable(method: MethodDeclaration): boolean {
  const body = method.body as BlockStatement | null;
  if (!body || body.kind !== Kind.Block || body.statements.length !== 1) return false;
  const statement = body.statements[0] as ReturnStatement;
  if (statement.kind !== Kind.Return || !statement.value || statement.value.kind !== Kind.Call) return false;
  return identifierIs((statement.value as CallExpression).expression, WRAPPER);
}

/**
 * Whether every stream of the user's roots shares its root's context, after shareHttpContexts: each
 * createHttpContext was proven, and no root creates TCP contexts. Then the SDK needs no proxy_on_delete
 * (assembly/dispatcher/shared-streams.ts).
 */
export function everyStreamShared(userSources: Source[]): boolean {
  let shared = true;
  walkSources(userSources, (node) => {
    if (!isMethod(node) || isStatic(node)) return;
    const name = node.name.text;
    if (name === STREAM_FACTORY || (name === FACTORY && !returnsShareable(node))) shared = false;
  });
  return shared;
}

/** Tells the SDK that the filter does not export proxy_on_delete: its `streamsGetDeleted()` returns false. */
export function markStreamsNotDeleted(sdkSources: Source[]): void {
  const sharedStreams = sdkSources.find((source) => source.normalizedPath.endsWith(SHARED_STREAMS));
  const flag = sharedStreams?.statements.find(
    (statement) => statement.kind === Kind.FunctionDeclaration && (statement as FunctionDeclaration).name.text === DELETED_FLAG,
  ) as FunctionDeclaration | undefined;
  const body = flag?.body as BlockStatement | undefined;
  const statement = body?.statements[0] as ReturnStatement | undefined;
  if (!statement || statement.kind !== Kind.Return) throw new Error(`proxy-wasm-as transform: the SDK has no ${DELETED_FLAG}()`);
  statement.value = AstNode.createFalseExpression(statement.range);
}
