import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapFramer, encodeDapMessage } from '../../../src/dap/dapFramer.js';
import { parseDapMessage, type DapMessage } from '../../../src/dap/dapMessage.js';
import type { MemoryTransport } from '../../../src/transport/memoryTransport.js';

/**
 * Either end of an in-memory DAP connection (a client, or a fake adapter): records
 * every message arriving on a memory transport and sends messages back. For a client
 * over TCP that matches responses and waits for events, see `DapTestClient`.
 */
export class DapReader {
  readonly messages: DapMessage[] = [];
  private readonly framer = new DapFramer(1 << 20);
  constructor(readonly transport: MemoryTransport) {
    transport.onData((chunk) => {
      for (const { body } of this.framer.push(chunk)) this.messages.push(parseDapMessage(body));
    });
  }
  send(message: object): void {
    this.transport.send(encodeDapMessage(message));
  }
  requests(command?: string): DebugProtocol.Request[] {
    return this.messages.filter((m): m is DebugProtocol.Request => m.type === 'request' && (command === undefined || (m as DebugProtocol.Request).command === command));
  }
  responses(): DebugProtocol.Response[] {
    return this.messages.filter((m): m is DebugProtocol.Response => m.type === 'response');
  }
  events(name?: string): DebugProtocol.Event[] {
    return this.messages.filter((m): m is DebugProtocol.Event => m.type === 'event' && (name === undefined || (m as DebugProtocol.Event).event === name));
  }
}
