// Checks Envoy config the way Envoy loads it: an unknown field, a wrong type or a broken PGV rule is
// a refusal. The messages it knows are in envoy-messages.ts.
import { DURATION, MESSAGES, type FieldType } from "./envoy-messages.js";

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3";

function checkValue(type: FieldType, value: unknown, path: string, problems: string[]): void {
  const wrong = (expected: string) => problems.push(`${path}: expected ${expected}, got ${JSON.stringify(value)}`);
  if (type === "string") {
    if (typeof value !== "string") wrong("a string");
  } else if (type === "uint32") {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 2 ** 32 - 1) wrong("a uint32");
  } else if (type === "bool" || type === "BoolValue") {
    if (typeof value !== "boolean") wrong("a boolean");
  } else if (type === "Duration") {
    if (typeof value !== "string" || !DURATION.test(value)) wrong('a duration such as "1.5s"');
  } else if ("message" in type) {
    checkMessage(type.message, value, path, problems);
  } else if ("enum" in type) {
    if (typeof value !== "string" || !type.enum.includes(value)) wrong(`one of ${type.enum.join(", ")}`);
  } else if ("map" in type) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
      wrong("a map of strings");
    }
  } else if ("repeated" in type) {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) wrong("a list of strings");
  } else if ("repeatedMessage" in type) {
    if (!Array.isArray(value)) wrong(`a list of ${type.repeatedMessage}`);
    else value.forEach((item, index) => checkMessage(type.repeatedMessage, item, `${path}[${index}]`, problems));
  } else {
    checkAny(type.any, value, path, problems);
  }
}

// An Any in YAML: "@type" and, for a message, its fields inline; for a wrapper such as StringValue, `value`.
function checkAny(types: Record<string, string>, value: unknown, path: string, problems: string[]): void {
  const any = (value ?? {}) as Record<string, unknown>;
  const target = types[String(any["@type"])];
  if (!target) {
    problems.push(`${path}: an Any of an unexpected @type ${JSON.stringify(any["@type"])}`);
    return;
  }
  const { "@type": _type, ...fields } = any;
  if (MESSAGES[target]) checkMessage(target, fields, path, problems);
  else checkValue(target as FieldType, any.value, `${path}.value`, problems);
}

/** The reasons Envoy would refuse `value` as the message `name`; empty when it would accept it. */
export function checkMessage(name: string, value: unknown, path: string, problems: string[] = []): string[] {
  const message = MESSAGES[name];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${path}: expected a ${name} message`);
    return problems;
  }
  const fields = value as Record<string, unknown>;
  const declared = new Set(message.declared.split(" "));
  for (const [key, item] of Object.entries(fields)) {
    const type = message.fields[key];
    if (!declared.has(key)) problems.push(`${path}: ${name} has no field "${key}"`);
    else if (!type) problems.push(`${path}: ${name}.${key} is written but not typed in the test support`);
    else checkValue(type, item, `${path}.${key}`, problems);
  }
  if (message.oneof) {
    const set = message.oneof.fields.filter((key) => fields[key] !== undefined);
    if (set.length > 1 || (message.oneof.required && set.length === 0)) problems.push(`${path}: exactly one of ${message.oneof.fields.join(", ")}`);
  }
  for (const rule of message.rules ?? []) {
    const reason = rule(fields);
    if (reason) problems.push(`${path}: ${reason}`);
  }
  return problems;
}

/** An http_filters entry running envoy.filters.http.wasm, checked down to the last field. */
export function wasmFilterErrors(filter: any): string[] {
  const problems: string[] = [];
  if (filter?.name !== "envoy.filters.http.wasm") problems.push(`filter name ${JSON.stringify(filter?.name)}`);
  if (filter?.typed_config?.["@type"] !== "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm") {
    problems.push(`@type ${filter?.typed_config?.["@type"]}`);
  }
  return checkMessage(`${HCM}.HttpFilter`, filter, "filter", problems);
}

/** A whole static bootstrap, from admin down to each cluster's endpoints. */
export function bootstrapErrors(bootstrap: unknown): string[] {
  return checkMessage("envoy.config.bootstrap.v3.Bootstrap", bootstrap, "bootstrap");
}
