import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapFramer, encodeDapMessage } from '../dap/dapFramer.js';
import { parseDapMessage } from '../dap/dapMessage.js';
import type { Transport } from '../transport/transport.js';

/** Options of {@link refuseDapClient}. */
export interface DapRefusalOptions {
  /** Bound on the message the client sends. */
  readonly maxMessageBytes: number;
  /** How long to wait for the client's first request before closing anyway. */
  readonly waitMs: number;
}

/**
 * Tells a DAP client why it gets no session, in a way a debugger UI shows: waits
 * for the client's first request (normally `initialize`), sends an `output` event
 * (category `important`) and a failed response carrying `text`, then closes.
 * Resolves once the transport is closed.
 */
export function refuseDapClient(client: Transport, text: string, options: DapRefusalOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    const framer = new DapFramer(options.maxMessageBytes);
    let answered = false;
    const timer = setTimeout(() => client.close(), options.waitMs);
    client.onClose(() => {
      clearTimeout(timer);
      resolve();
    });
    client.onData((chunk) => {
      if (answered) return;
      let frames;
      try {
        frames = framer.push(chunk);
      } catch {
        answered = true;
        client.destroy();
        return;
      }
      for (const { body } of frames) {
        let request: DebugProtocol.Request;
        try {
          const message = parseDapMessage(body);
          if (message.type !== 'request') continue;
          request = message as DebugProtocol.Request;
        } catch {
          continue;
        }
        answered = true;
        const output: DebugProtocol.OutputEvent = {
          type: 'event',
          seq: 1,
          event: 'output',
          body: { category: 'important', output: `${text}\n` },
        };
        const response: DebugProtocol.ErrorResponse = {
          type: 'response',
          seq: 2,
          request_seq: request.seq,
          command: request.command,
          success: false,
          message: text,
          body: {},
        };
        client.send(encodeDapMessage(output));
        client.send(encodeDapMessage(response));
        client.close();
        // A client that never closes its side must not hold the socket open forever.
        setTimeout(() => client.destroy(), options.waitMs).unref();
        return;
      }
    });
  });
}
