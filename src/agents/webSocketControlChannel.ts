import type { RawData, WebSocket } from 'ws';
import type { JsonDepthBound } from '../common/jsonDepth.js';
import { RelayError } from '../common/relayError.js';
import { rawDataToBuffer } from '../transport/webSocketTransport.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { ControlChannelBase, controlCloseGraceMs, parseControlMessage } from './controlChannelBase.js';

/** WebSocket close codes (RFC 6455 §7.4.1). */
const closeCodes = { normal: 1000, unsupportedData: 1003, policyViolation: 1008, tooBig: 1009 } as const;

/**
 * {@link ControlChannel} over WebSocket text frames, one JSON object per frame
 * (docs/protocol.md §3). The frame size bound is the server's `maxPayload`; a binary
 * frame or a frame that is not a JSON object (or nests deeper than
 * `jsonDepth.maxDepth`) closes the channel with `BAD_REQUEST`.
 */
export class WebSocketControlChannel extends ControlChannelBase implements ControlChannel {
  readonly kind = 'wss' as const;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    private readonly jsonDepth?: JsonDepthBound,
  ) {
    super();
    const underlying = (ws as unknown as { _socket?: { setNoDelay?: (v: boolean) => void } })._socket;
    underlying?.setNoDelay?.(true);
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.closeError ??= new RelayError('MESSAGE_TOO_LARGE', 'control message too large (limits.maxControlMessageBytes)');
      }
    });
    ws.on('close', () => this.finish());
  }

  get closed(): boolean {
    return this.closeSignal.fired || this.ws.readyState >= 2;
  }

  send(message: object): void {
    if (this.ws.readyState === 1) this.ws.send(JSON.stringify(message));
  }

  close(error?: RelayError): void {
    if (this.ws.readyState >= 2) return;
    if (error) {
      this.closeError ??= error;
      this.send(controlErrorFor(error));
    }
    const code = !error ? closeCodes.normal : error.code === 'MESSAGE_TOO_LARGE' ? closeCodes.tooBig : closeCodes.policyViolation;
    this.ws.close(code, error?.code ?? '');
    setTimeout(() => this.ws.terminate(), controlCloseGraceMs).unref();
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.close(new RelayError('BAD_REQUEST', 'control messages travel in text frames'));
    const message = parseControlMessage(rawDataToBuffer(data).toString('utf8'), this.jsonDepth);
    if (message instanceof RelayError) return this.close(message);
    this.deliver(message);
  }
}
