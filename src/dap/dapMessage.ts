import type { DebugProtocol } from '@vscode/debugprotocol';
import { parseBoundedJson, type JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';

/** Any DAP message: request, response or event. */
export type DapMessage = DebugProtocol.Request | DebugProtocol.Response | DebugProtocol.Event;

/**
 * Parses a DAP message body. Throws `BAD_REQUEST` unless it is a JSON object, nested at
 * most `depth.maxDepth` levels deep (default 64; docs/protocol.md §3), with a
 * `type` of request, response or event (DAP base protocol `ProtocolMessage`).
 */
export function parseDapMessage(body: Buffer, depth?: JsonDepthBound): DapMessage {
  const value = parseBoundedJson(body, 'DAP message body', depth);
  if (typeof value !== 'object' || value === null) throw new RelayError('BAD_REQUEST', 'DAP message is not an object');
  const type = (value as { type?: unknown }).type;
  if (type !== 'request' && type !== 'response' && type !== 'event') {
    throw new RelayError('BAD_REQUEST', 'DAP message has no valid type');
  }
  return value as DapMessage;
}

/** The command of a request or response, the event name of an event. */
export function dapMessageName(message: DapMessage): string {
  return message.type === 'event' ? (message as DebugProtocol.Event).event : (message as DebugProtocol.Request).command;
}
