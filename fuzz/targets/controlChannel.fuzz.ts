import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import type { RelayError } from '../../src/common/relayError.js';
import { agentToRelayMessage, relayToAgentMessage } from '../../src/protocol/controlMessages.js';
import { LineControlChannel } from '../../src/agents/lineControlChannel.js';
import { check, chunked, expectRelayError } from './contract.js';

/** A small line bound, so that short inputs reach `MESSAGE_TOO_LARGE` too. */
const maxLineBytes = 512;

/** The part of a TLS socket a {@link LineControlChannel} uses, in memory. */
class MemorySocket extends EventEmitter {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 50000;
  destroyed = false;
  writable = true;
  readonly written: string[] = [];
  setNoDelay(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  end(): this {
    this.writable = false;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

/**
 * Control messages on a tcps control connection (src/agents/lineControlChannel.ts,
 * controlChannelBase.ts, src/protocol/controlMessages.ts): lines of JSON, cut into
 * chunks anywhere. The first byte picks the chunking. Asserts: receiving never throws
 * out of the socket's data handler; a channel closes only with `BAD_REQUEST` or
 * `MESSAGE_TOO_LARGE`, and says so to the agent in one `error` line; every message it
 * delivers is a JSON object that the control schemas check without throwing.
 */
export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  // The fuzzer runs inputs back to back without turning the event loop, so the close
  // grace timer (controlCloseGraceMs) would never fire and every channel would stay in
  // memory: timers set during one input fire right after it instead.
  const timers: Array<() => void> = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((callback: () => void) => {
    timers.push(callback);
    return { unref: () => undefined };
  }) as unknown as typeof setTimeout;
  let received: { socket: MemorySocket; failed: boolean };
  try {
    received = receiveAll(data);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  for (const timer of timers) timer();
  if (received.failed) check(received.socket.destroyed, 'a failed control channel did not destroy its socket after the grace period');
}

function receiveAll(data: Buffer): { socket: MemorySocket; failed: boolean } {
  const stride = 1 + (data[0]! % 64);
  const input = data.subarray(1);
  const socket = new MemorySocket();
  const channel = new LineControlChannel(socket as unknown as TLSSocket, maxLineBytes);
  const delivered: unknown[] = [];
  let closedWith: RelayError | undefined;
  let closes = 0;
  channel.onMessage((message) => delivered.push(message));
  channel.onClose((error) => {
    closes++;
    closedWith = error;
  });
  const cuts = Array.from({ length: Math.ceil(input.length / stride) }, (_, i) => (i + 1) * stride);
  for (const chunk of chunked(input, cuts)) {
    try {
      socket.emit('data', chunk);
    } catch (error) {
      expectRelayError(error, [], 'the control channel data handler');
    }
    if (socket.writable === false) break;
  }
  socket.emit('close');
  check(closes === 1, `the close was reported ${closes} times`);
  if (closedWith !== undefined) {
    expectRelayError(closedWith, ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'], 'the control channel close');
    check(socket.written.length === 1 && socket.written[0]!.includes(`"code":"${closedWith.code}"`), 'a failed channel did not send one error line with its code');
  }
  for (const message of delivered) {
    check(typeof message === 'object' && message !== null && !Array.isArray(message), 'a control message that is not a JSON object was delivered');
    agentToRelayMessage.safeParse(message);
    relayToAgentMessage.safeParse(message);
  }
  return { socket, failed: closedWith !== undefined };
}
