export * from "./lifecycle";
export * from "./http";
export * from "./tcp";
export * from "./root-events";
export * from "./callouts";
export { registerNamedRootContext, registerRootContext, RootContextFactory } from "./registry";
