// Context creation, start-up, configuration and teardown.
import { Configuration } from "../context/configuration";
import { enterCallback } from "../context/context";
import { getBufferBytes } from "../hostcalls/buffers";
import { contextCreated } from "../log";
import { emptyBuffer } from "../runtime/memory";
import { BufferType } from "../types";
import { addContext, httpContext, PassedStream, removeContext, rootContext, rootFactory, streamContext } from "./registry";
import {
  becomeDefault, enterStream, expectCreated, isDefaultRoot, isShareable, leaveStream, passedNeedsRecord, record, streamCreated, sweep,
} from "./shared-streams";

export function onContextCreate(contextId: u32, parentContextId: u32): void {
  contextCreated();
  if (parentContextId == 0) {
    // A new root: the host may have let others go meanwhile (a configuration change).
    sweep(contextId);
    enterCallback(contextId);
    const factory = rootFactory();
    if (factory) addContext(factory(contextId));
    return;
  }
  // Most streams: the default root's, which need nothing (shared-streams.ts).
  if (!isDefaultRoot(parentContextId)) createStream(contextId, parentContextId);
  streamCreated(contextId);
}

function createStream(contextId: u32, parentContextId: u32): void {
  enterCallback(contextId);
  const root = rootContext(parentContextId);
  if (!root) {
    passed(contextId);
    return;
  }
  // @ts-ignore: the root's own field, kept private from filter code
  const shared = root.sharedHttpContext;
  if (shared && becomeDefault(shared, parentContextId, contextId)) return;
  // The host does not say whether this is an HTTP stream or a TCP connection: a root creates one kind.
  expectCreated();
  const http = root.createHttpContext(contextId);
  if (http) {
    if (!shared && isShareable(http)) {
      // @ts-ignore: the root's own field
      root.sharedHttpContext = http;
      if (becomeDefault(http, parentContextId, contextId)) return;
    }
    record(http);
    return;
  }
  const stream = root.createStreamContext(contextId);
  if (stream) record(stream);
  else passed(contextId);
}

/** A stream no context takes: it continues untouched. */
function passed(contextId: u32): void {
  if (passedNeedsRecord()) record(new PassedStream(contextId));
}

function readConfiguration(type: BufferType, size: u32): Configuration {
  const bytes = size ? getBufferBytes(type, 0, size) : null;
  return new Configuration(bytes ? bytes : emptyBuffer());
}

export function onVmStart(contextId: u32, vmConfigurationSize: u32): bool {
  const root = rootContext(contextId);
  if (!root) return false;
  enterCallback(contextId);
  return root.onVmStart(readConfiguration(BufferType.VmConfiguration, vmConfigurationSize));
}

export function onConfigure(contextId: u32, pluginConfigurationSize: u32): bool {
  const root = rootContext(contextId);
  if (!root) return false;
  enterCallback(contextId);
  return root.onConfigure(readConfiguration(BufferType.PluginConfiguration, pluginConfigurationSize));
}

/** A root may defer its shutdown by returning false; Envoy ignores a stream's answer. */
export function onDone(contextId: u32): bool {
  enterCallback(contextId);
  const root = rootContext(contextId);
  if (root) return root.onDone();
  const http = httpContext(contextId);
  if (http) {
    const outer = enterStream(http, contextId);
    http.onDone();
    leaveStream(http, outer);
    return true;
  }
  const stream = streamContext(contextId);
  if (stream) stream.onDone();
  return true;
}

export function onLog(contextId: u32): void {
  enterCallback(contextId);
  const http = httpContext(contextId);
  if (http) {
    const outer = enterStream(http, contextId);
    http.onLog();
    leaveStream(http, outer);
    return;
  }
  const stream = streamContext(contextId);
  if (stream) stream.onLog();
}

export function onDelete(contextId: u32): void {
  removeContext(contextId);
}
