// Typed configuration: a class decorated with @configuration declares the fields, their types and
// defaults; the preset's transform gives it a strict reader (transform/configuration.ts), and these
// functions run it over the plugin's JSON configuration.
import { Configuration } from "../context/configuration";
import { parseDocument, parseError } from "../json/parser";
import { JsonKind, JsonValue } from "../json/value";
import { log } from "../log";
import { describeJson } from "../json/field";
import { ConfigurationReader, Message, messageText } from "./reader";

export { ConfigurationReader } from "./reader";

/** Outcome of `parseConfiguration`: the settings, or why there are none. */
export class ConfigurationResult<T> {
  constructor(
    /** The settings; null when `error` says what is wrong. */
    readonly value: T | null,
    /** The one problem found, naming the field's path and what was expected; "" when there is none. */
    readonly error: string
  ) {}

  get ok(): bool {
    return this.error.length == 0;
  }
}

/**
 * Reads `text` (JSON; empty means `{}`) into a new `T`, a class decorated with `@configuration`. Missing
 * `@required` fields, values of the wrong type, numbers out of their type's range or a `@range`, and fields
 * the class does not declare or that repeat a name are refused: `error` then names the first one in document
 * order (missing fields after the members), e.g. `timeoutMs: expected an integer from 1 to 60000, got 0`.
 */
export function parseConfiguration<T>(text: string): ConfigurationResult<T> {
  const settings = instantiate<T>();
  // @ts-ignore: added to every @configuration class by the preset's transform
  if (!isDefined(settings.__readConfiguration)) ERROR("parseConfiguration<T>: T must be a class decorated with @configuration");
  const json = text.length ? parseDocument(text, 64) : JsonValue.newObject();
  if (!json) return new ConfigurationResult<T>(null, messageText(Message.InvalidJson) + parseError());
  if (json.kind != JsonKind.Object) return new ConfigurationResult<T>(null, messageText(Message.ExpectedObject) + describeJson(json));
  const reader = new ConfigurationReader(json);
  // @ts-ignore: see above
  settings.__readConfiguration<ConfigurationReader>(reader);
  return reader.error.length ? new ConfigurationResult<T>(null, reader.error) : new ConfigurationResult<T>(settings, "");
}

/**
 * The plugin's configuration read into a new `T` (see `parseConfiguration`), or null after logging the
 * problem at error level (see `refuseConfiguration`): return false from onConfigure then, and Envoy refuses
 * the configuration.
 */
export function readConfiguration<T>(configuration: Configuration): T | null {
  const result = parseConfiguration<T>(configuration.toString());
  if (!result.ok) refuseConfiguration(result.error);
  return result.value;
}

/**
 * Logs `invalid configuration: <problem>` at error level, as `readConfiguration` does, and returns false, for
 * onConfigure to return: `if (!isValidHeaderName(name)) return refuseConfiguration("name: expected a header name")`.
 */
export function refuseConfiguration(problem: string): bool {
  log.error(messageText(Message.InvalidConfiguration) + problem);
  return false;
}
