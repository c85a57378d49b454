export { JsonKind, JsonValue } from "./value";
export { JsonResult, parseJson, isJsonLike } from "./parser";
export { FieldStatus, JsonField, describeJson } from "./field";
