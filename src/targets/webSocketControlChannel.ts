import type { RawData, WebSocket } from 'ws';
import { RelayError } from '../common/relayError.js';
import { rawDataToBuffer } from '../transport/webSocketTransport.js';
import { controlErrorFor, type ControlChannel } from './controlChannel.js';
import { CloseSignal } from '../transport/closeSignal.js';

/** How long a closing channel waits for the peer's close frame before terminating. */
const closeGraceMs = 2_000;

/** WebSocket close codes (RFC 6455 §7.4.1). */
const closeCodes = { normal: 1000, unsupportedData: 1003, policyViolation: 1008, tooBig: 1009 } as const;

/**
 * {@link ControlChannel} over WebSocket text frames, one JSON object per frame
 * (docs/protocol.md §3). The frame size bound is the server's `maxPayload`; a binary
 * frame or a frame that is not a JSON object closes the channel with `BAD_REQUEST`.
 */
export class WebSocketControlChannel implements ControlChannel {
  readonly kind = 'wss' as const;
  private listener: ((message: unknown) => void) | undefined;
  private readonly early: unknown[] = [];
  private readonly closeSignal = new CloseSignal<RelayError>();
  private closeError: RelayError | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
  ) {
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

  onMessage(listener: (message: unknown) => void): void {
    this.listener = listener;
    for (const message of this.early.splice(0)) listener(message);
  }

  onClose(listener: (error?: RelayError) => void): void {
    this.closeSignal.add(listener);
  }

  close(error?: RelayError): void {
    if (this.ws.readyState >= 2) return;
    if (error) {
      this.closeError ??= error;
      this.send(controlErrorFor(error));
    }
    const code = !error ? closeCodes.normal : error.code === 'MESSAGE_TOO_LARGE' ? closeCodes.tooBig : closeCodes.policyViolation;
    this.ws.close(code, error?.code ?? '');
    setTimeout(() => this.ws.terminate(), closeGraceMs).unref();
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.close(new RelayError('BAD_REQUEST', 'control messages travel in text frames'));
    let message: unknown;
    try {
      message = JSON.parse(rawDataToBuffer(data).toString('utf8'));
    } catch {
      return this.close(new RelayError('BAD_REQUEST', 'control message is not valid JSON'));
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return this.close(new RelayError('BAD_REQUEST', 'control message is not a JSON object'));
    }
    if (this.listener) this.listener(message);
    else this.early.push(message);
  }

  private finish(): void {
    this.closeSignal.fire(this.closeError);
  }
}
