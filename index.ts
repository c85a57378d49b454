// proxy-wasm-as: the AssemblyScript SDK for Proxy-Wasm filters.
// Import the API from "proxy-wasm-as"; re-export the ABI from "proxy-wasm-as/assembly/exports" in your entry file.
export * from "./assembly/types";
export { Header } from "./assembly/pairs";
export { Configuration } from "./assembly/context/configuration";
export { Context } from "./assembly/context/context";
export { RootContext } from "./assembly/context/root";
export { HttpContext } from "./assembly/context/http";
export { StreamContext } from "./assembly/context/stream";
export { HeaderMap } from "./assembly/http/headers";
export { Body } from "./assembly/http/body";
export { isValidHeaderName, isValidHeaderValue } from "./assembly/http/validation";
export { registerNamedRootContext, registerRootContext, RootContextFactory } from "./assembly/dispatcher";
export { HttpCallResponse } from "./assembly/callouts/http";
export { GrpcCallResponse, GrpcStream, GrpcStreamHandler } from "./assembly/callouts/grpc";
export { CallStatus } from "./assembly/hostcalls/callouts";
export { SharedData, SharedDataValue } from "./assembly/shared/data";
export { SharedQueue } from "./assembly/shared/queue";
export { Counter, Gauge, Histogram, MetricValue } from "./assembly/metrics";
export { callForeignFunction, ForeignResult } from "./assembly/foreign";
export { log } from "./assembly/log";
export {
  attributes, getProperty, getPropertyString, getPropertyInteger, getPropertyBool, getPropertyMap, setProperty, setPropertyString,
  IntegerProperty,
} from "./assembly/properties";
export { getCurrentTimeNanoseconds } from "./assembly/hostcalls/context";
export { JsonKind, JsonValue, JsonResult, parseJson, isJsonLike, FieldStatus, JsonField } from "./assembly/json";
export { ConfigurationResult, parseConfiguration, readConfiguration, refuseConfiguration } from "./assembly/config";
