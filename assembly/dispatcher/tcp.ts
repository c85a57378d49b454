// TCP connection callbacks. A connection its root did not take continues untouched.
import { enterCallback } from "../context/context";
import { StreamContext } from "../context/stream";
import { FilterStatus, PeerType } from "../types";
import { streamContext } from "./registry";

function enterStream(contextId: u32): StreamContext | null {
  const context = streamContext(contextId);
  if (context) enterCallback(contextId);
  return context;
}

export function onNewConnection(contextId: u32): FilterStatus {
  const context = enterStream(contextId);
  return context ? context.onNewConnection() : FilterStatus.Continue;
}

export function onDownstreamData(contextId: u32, dataSize: u32, endOfStream: bool): FilterStatus {
  const context = enterStream(contextId);
  return context ? context.onDownstreamData(dataSize, endOfStream) : FilterStatus.Continue;
}

export function onUpstreamData(contextId: u32, dataSize: u32, endOfStream: bool): FilterStatus {
  const context = enterStream(contextId);
  return context ? context.onUpstreamData(dataSize, endOfStream) : FilterStatus.Continue;
}

export function onDownstreamConnectionClose(contextId: u32, peer: PeerType): void {
  const context = enterStream(contextId);
  if (context) context.onDownstreamConnectionClose(peer);
}

export function onUpstreamConnectionClose(contextId: u32, peer: PeerType): void {
  const context = enterStream(contextId);
  if (context) context.onUpstreamConnectionClose(peer);
}
