export { JsonKind, JsonValue } from "./value";
export { JsonResult, parseJson, isJsonLike } from "./parser";
