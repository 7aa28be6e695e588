import type WebSocket from 'ws';
import type { ListenAddress } from '../../../src/relay/relayServer.js';
import { basicAuth, openWebSocket, TcpsPeer } from './relayPeers.js';

/** A data connection the fake agent opened for one session. */
export interface FakeDataConnection {
  send(bytes: Buffer): void;
  /** All bytes received so far. */
  received(): Buffer;
  /** Calls `listener` with each chunk received from now on. */
  onReceive(listener: (chunk: Buffer) => void): void;
  readonly closed: boolean;
}

/** Options of {@link FakeAgent.connect}. */
export interface FakeAgentOptions {
  readonly via: 'wss' | 'tcps';
  readonly address: ListenAddress;
  readonly ca: string;
  readonly secret: string;
  readonly name: string;
  readonly agentId: string;
  readonly answerPings?: boolean;
  /** Open a data connection for each `open` (default true). */
  readonly autoOpen?: boolean;
  /** The target's attach secret, sent in `register` (docs/protocol.md §2.2). */
  readonly attachSecret?: string;
  /** The target's labels, sent in `register` (default `{ env: 'test' }`). */
  readonly labels?: Record<string, string>;
  /** Called with each data connection as soon as it is open. */
  readonly onDataConnection?: (connection: FakeDataConnection) => void;
}

/** An agent speaking docs/protocol.md §5 and §6 over wss or tcps, for tests. */
export class FakeAgent {
  readonly messages: Array<Record<string, any>> = [];
  readonly dataConnections: FakeDataConnection[] = [];
  /** Errors from opening data connections. */
  readonly dataErrors: Error[] = [];
  closed = false;
  private waiters: Array<() => void> = [];
  private sendControl: (message: object) => void = () => undefined;
  private closeControl: () => void = () => undefined;

  private constructor(private readonly options: FakeAgentOptions) {}

  /** Connects the control connection and sends `register`. */
  static async connect(options: FakeAgentOptions): Promise<FakeAgent> {
    const agent = new FakeAgent(options);
    if (options.via === 'wss') {
      const ws = await openWebSocket(options.address, '/v1/agent', options.ca, basicAuth(options.secret));
      ws.on('message', (data, isBinary) => {
        if (!isBinary) agent.receive(JSON.parse(data.toString()));
      });
      ws.on('close', () => agent.ended());
      agent.sendControl = (message) => ws.send(JSON.stringify(message));
      agent.closeControl = () => ws.terminate();
    } else {
      const { peer, reply } = await TcpsPeer.hello(options.address, options.ca, { op: 'agent', secret: options.secret });
      if (!reply.ok) throw new Error(`hello refused: ${JSON.stringify(reply)}`);
      void (async () => {
        try {
          for (;;) agent.receive(await peer.readLine());
        } catch {
          agent.ended();
        }
      })();
      agent.sendControl = (message) => peer.sendLine(message);
      agent.closeControl = () => peer.socket.destroy();
    }
    agent.sendControl({
      type: 'register',
      agentId: options.agentId,
      target: { name: options.name, labels: options.labels ?? { env: 'test' } },
      process: { pid: 4242, host: 'test-host', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
      ...(options.attachSecret !== undefined ? { attachSecret: options.attachSecret } : {}),
    });
    return agent;
  }

  /** Resolves with the first message of `type` (waiting for it if needed). */
  async next(type: string, timeoutMs = 3_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m['type'] === type);
      if (found) return found;
      if (this.closed) throw new Error(`control connection closed before ${type}`);
      if (Date.now() > deadline) throw new Error(`no ${type} message`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  /** Sends any control message. */
  send(message: object): void {
    this.sendControl(message);
  }

  /** Drops the control connection abruptly. */
  close(): void {
    this.closeControl();
  }

  private receive(message: Record<string, any>): void {
    this.messages.push(message);
    if (message['type'] === 'ping' && this.options.answerPings !== false) this.sendControl({ type: 'pong', id: message['id'] });
    if (message['type'] === 'open' && this.options.autoOpen !== false) {
      this.openData(String(message['sessionId'])).catch((error: Error) => this.dataErrors.push(error));
    }
    this.wakeAll();
  }

  private ended(): void {
    this.closed = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async openData(sessionId: string): Promise<void> {
    const { address, ca, secret } = this.options;
    if (this.options.via === 'wss') {
      const ws: WebSocket = await openWebSocket(address, `/v1/agent/sessions/${sessionId}`, ca, basicAuth(secret));
      const chunks: Buffer[] = [];
      const connection = {
        closed: false,
        send: (b: Buffer) => ws.send(b),
        received: () => Buffer.concat(chunks),
        onReceive: (listener: (chunk: Buffer) => void) => ws.on('message', listener),
      };
      ws.on('message', (data) => chunks.push(data as Buffer));
      ws.on('close', () => (connection.closed = true));
      this.dataConnections.push(connection);
      this.options.onDataConnection?.(connection);
    } else {
      const { peer, reply } = await TcpsPeer.hello(address, ca, { op: 'agentData', sessionId, secret });
      if (!reply.ok) throw new Error(`agentData refused: ${JSON.stringify(reply)}`);
      const chunks: Buffer[] = [peer.takeBuffered()];
      const connection = {
        closed: false,
        send: (b: Buffer) => peer.socket.write(b),
        received: () => Buffer.concat(chunks),
        onReceive: (listener: (chunk: Buffer) => void) => peer.socket.on('data', listener),
      };
      peer.socket.on('data', (c: Buffer) => chunks.push(c));
      peer.socket.on('close', () => (connection.closed = true));
      this.dataConnections.push(connection);
      this.options.onDataConnection?.(connection);
    }
  }
}
