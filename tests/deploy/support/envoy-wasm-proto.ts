// The messages of Envoy's wasm HTTP filter config as Envoy's API declares them (envoy/extensions/
// filters/http/wasm/v3/wasm.proto, envoy/extensions/wasm/v3/wasm.proto, config/core/v3 base.proto,
// http_uri.proto, backoff.proto; data-plane-api, January 2026), with the PGV rules on the fields we
// write. Envoy refuses a bootstrap with an unknown field, a wrong type, or a broken rule; so does this.

type FieldType =
  | "string"
  | "bool"
  | "BoolValue"
  | "Duration"
  | { message: string }
  | { enum: readonly string[] }
  | { map: "string" }
  | { repeated: "string" }
  | { any: Record<string, string> };

interface Message {
  fields: Record<string, FieldType>;
  /** Fields of a oneof: at most one may be set; `required` means exactly one. */
  oneof?: { fields: string[]; required: boolean };
  /** PGV rules beyond the type: each returns a reason when broken. */
  rules?: ((message: Record<string, any>) => string | undefined)[];
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const seconds = (duration: string) => Number(duration.slice(0, -1));

// google.protobuf.Any payloads the filter config may carry, with their own value type.
const ANY_VALUES = { "type.googleapis.com/google.protobuf.StringValue": "string" };

export const MESSAGES: Record<string, Message> = {
  "envoy.extensions.filters.http.wasm.v3.Wasm": { fields: { config: { message: "envoy.extensions.wasm.v3.PluginConfig" } } },
  "envoy.extensions.wasm.v3.PluginConfig": {
    fields: {
      name: "string",
      root_id: "string",
      vm_config: { message: "envoy.extensions.wasm.v3.VmConfig" },
      configuration: { any: ANY_VALUES },
      fail_open: "bool",
      failure_policy: { enum: ["UNSPECIFIED", "FAIL_RELOAD", "FAIL_CLOSED", "FAIL_OPEN"] },
      reload_config: { message: "envoy.extensions.wasm.v3.ReloadConfig" },
      capability_restriction_config: { message: "envoy.extensions.wasm.v3.CapabilityRestrictionConfig" },
      allow_on_headers_stop_iteration: "BoolValue",
    },
  },
  "envoy.extensions.wasm.v3.VmConfig": {
    fields: {
      vm_id: "string",
      runtime: "string",
      code: { message: "envoy.config.core.v3.AsyncDataSource" },
      configuration: { any: ANY_VALUES },
      allow_precompiled: "bool",
      nack_on_code_cache_miss: "bool",
      environment_variables: { message: "envoy.extensions.wasm.v3.EnvironmentVariables" },
    },
  },
  "envoy.extensions.wasm.v3.EnvironmentVariables": {
    fields: { host_env_keys: { repeated: "string" }, key_values: { map: "string" } },
    // VmConfig.environment_variables: "Envoy rejects the configuration if there's conflict of key space."
    rules: [
      (m) => {
        const clash = (m.host_env_keys ?? []).find((key: string) => key in (m.key_values ?? {}));
        return clash === undefined ? undefined : `${clash} is both a host key and a key value`;
      },
    ],
  },
  "envoy.extensions.wasm.v3.ReloadConfig": { fields: { backoff: { message: "envoy.config.core.v3.BackoffStrategy" } } },
  "envoy.extensions.wasm.v3.CapabilityRestrictionConfig": { fields: {} },
  "envoy.config.core.v3.BackoffStrategy": {
    fields: { base_interval: "Duration", max_interval: "Duration" },
    rules: [
      (m) => (m.base_interval === undefined ? "base_interval is required" : undefined),
      (m) => (m.base_interval !== undefined && seconds(m.base_interval) < 0.001 ? "base_interval is at least 1ms" : undefined),
      (m) => (m.max_interval !== undefined && seconds(m.max_interval) <= 0 ? "max_interval is greater than 0" : undefined),
    ],
  },
  "envoy.config.core.v3.AsyncDataSource": {
    fields: { local: { message: "envoy.config.core.v3.DataSource" }, remote: { message: "envoy.config.core.v3.RemoteDataSource" } },
    oneof: { fields: ["local", "remote"], required: false },
  },
  "envoy.config.core.v3.DataSource": {
    fields: { filename: "string", inline_bytes: "string", inline_string: "string", environment_variable: "string" },
    oneof: { fields: ["filename", "inline_bytes", "inline_string", "environment_variable"], required: false },
    rules: [(m) => (m.filename === "" ? "filename is at least 1 character" : undefined)],
  },
  "envoy.config.core.v3.RemoteDataSource": {
    fields: { http_uri: { message: "envoy.config.core.v3.HttpUri" }, sha256: "string" },
    rules: [
      (m) => (m.http_uri === undefined ? "http_uri is required" : undefined),
      (m) => (!m.sha256 ? "sha256 is at least 1 character" : undefined),
    ],
  },
  "envoy.config.core.v3.HttpUri": {
    fields: { uri: "string", cluster: "string", timeout: "Duration" },
    rules: [
      (m) => (!m.uri ? "uri is at least 1 character" : undefined),
      (m) => (m.timeout === undefined ? "timeout is required" : undefined),
    ],
  },
};

function checkValue(type: FieldType, value: unknown, path: string, problems: string[]): void {
  const wrong = (expected: string) => problems.push(`${path}: expected ${expected}, got ${JSON.stringify(value)}`);
  if (type === "string") {
    if (typeof value !== "string") wrong("a string");
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
  } else {
    const any = value as Record<string, unknown>;
    const valueType = type.any[String(any?.["@type"])];
    if (!valueType) problems.push(`${path}: an Any of an unexpected @type ${JSON.stringify(any?.["@type"])}`);
    else checkValue(valueType as FieldType, any.value, `${path}.value`, problems);
  }
}

/** The reasons Envoy would refuse `value` as the message `name`; empty when it would accept it. */
export function checkMessage(name: string, value: unknown, path: string, problems: string[] = []): string[] {
  const message = MESSAGES[name];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${path}: expected a ${name} message`);
    return problems;
  }
  const fields = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(fields)) {
    const type = message.fields[key];
    if (!type) problems.push(`${path}: ${name} has no field "${key}"`);
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
  const typed = filter?.typed_config ?? {};
  if (typed["@type"] !== "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm") problems.push(`@type ${typed["@type"]}`);
  const { "@type": _type, ...wasm } = typed;
  return checkMessage("envoy.extensions.filters.http.wasm.v3.Wasm", wasm, "typed_config", problems);
}
