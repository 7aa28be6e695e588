import type { ListenAddress } from '../../../src/relay/relayServer.js';
import type { Outcome } from '../hostile/hostileProbes.js';
import { isOutcome, openTcpsLink, openWebSocketLink, type Link, type PeerCredential, type RelayEndpoints } from '../relay/relayLinks.js';

/** A data connection the fake agent opened for one session. */
export interface FakeDataConnection {
  send(bytes: Buffer): void;
  /** All bytes received so far. */
  received(): Buffer;
  /** Calls `listener` with each chunk received from now on. */
  onReceive(listener: (chunk: Buffer) => void): void;
  readonly closed: boolean;
}

/** What the agent does on its own; every field defaults to true except as noted. */
interface AgentBehaviour {
  readonly answerPings?: boolean;
  /** Open a data connection for each `open` (default true). */
  readonly autoOpen?: boolean;
  /** Called with each data connection as soon as it is open. */
  readonly onDataConnection?: (connection: FakeDataConnection) => void;
}

/** Options of {@link FakeAgent.connect}: one listener of a relay and its secret. */
export interface FakeAgentOptions extends AgentBehaviour {
  readonly via: 'wss' | 'tcps';
  readonly address: ListenAddress;
  readonly ca: string;
  readonly secret: string;
  readonly name: string;
  readonly agentId: string;
  /** The target's attach secret, sent in `register` (docs/protocol.md §2.2). */
  readonly attachSecret?: string;
  /** The target's labels, sent in `register` (default `{ env: 'test' }`). */
  readonly labels?: Record<string, string>;
}

/** Options of {@link FakeAgent.start}: any credential, over both listeners' endpoints. */
export interface FakeAgentStartOptions extends AgentBehaviour {
  readonly via: 'wss' | 'tcps';
  readonly credential: PeerCredential;
  readonly name: string;
  readonly agentId: string;
  readonly attachSecret?: string;
}

/** A `register` message (docs/protocol.md §5) with test process details. */
export function registerMessage(name: string, agentId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'register',
    agentId,
    target: { name, labels: { env: 'hostile-suite' } },
    process: { pid: 4242, host: 'suite-host', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
    ...extra,
  };
}

function openControl(endpoints: RelayEndpoints, via: 'wss' | 'tcps', credential: PeerCredential): Promise<Link | Outcome> {
  return via === 'wss' ? openWebSocketLink(endpoints, '/v1/agent', credential) : openTcpsLink(endpoints, { op: 'agent' }, credential);
}

/**
 * An agent speaking docs/protocol.md §5 and §6 over the relay's real wss or tcps
 * listener, for tests: registers one target, answers pings, and (unless `autoOpen` is
 * false) opens a data connection with its own credential for every `open`. Each data
 * connection is seen both as a {@link FakeDataConnection} and as a {@link Link}.
 */
export class FakeAgent {
  /** Session ids of every `open` received. */
  readonly opens: string[] = [];
  readonly dataConnections: FakeDataConnection[] = [];
  readonly dataLinks: Link[] = [];
  /** Errors from opening data connections. */
  readonly dataErrors: Error[] = [];
  /** Open a data connection for each `open` (tests turn it off to hold a session id pending). */
  autoOpen: boolean;
  /** True once the control connection is closed (by either side). */
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly endpoints: RelayEndpoints,
    private readonly via: 'wss' | 'tcps',
    private readonly credential: PeerCredential,
    /** The control connection. */
    readonly control: Link,
    private readonly behaviour: AgentBehaviour,
  ) {
    this.autoOpen = behaviour.autoOpen !== false;
    control.onMessage((message) => this.receive(message as Record<string, any>));
    void control.closed.then(() => {
      this.closed = true;
      this.wakeAll();
    });
  }

  /** Connects the control connection and sends `register` (without waiting for the answer); rejects when the connection is refused. */
  static async connect(options: FakeAgentOptions): Promise<FakeAgent> {
    const port = options.address.port;
    const endpoints: RelayEndpoints = { wssPort: port, tcpsPort: port, ca: options.ca, host: options.address.host };
    const credential = { secret: options.secret };
    const link = await openControl(endpoints, options.via, credential);
    if (isOutcome(link)) throw new Error(`agent ${options.name} refused: ${JSON.stringify(link)}`);
    const agent = new FakeAgent(endpoints, options.via, credential, link, options);
    link.send({
      type: 'register',
      agentId: options.agentId,
      target: { name: options.name, labels: options.labels ?? { env: 'test' } },
      process: { pid: 4242, host: 'test-host', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
      ...(options.attachSecret !== undefined ? { attachSecret: options.attachSecret } : {}),
    });
    return agent;
  }

  /** Connects and registers `name`; rejects unless the relay answers `registered`. */
  static async start(endpoints: RelayEndpoints, options: FakeAgentStartOptions): Promise<FakeAgent> {
    const link = await openControl(endpoints, options.via, options.credential);
    if (isOutcome(link)) throw new Error(`agent ${options.name} refused: ${JSON.stringify(link)}`);
    const agent = new FakeAgent(endpoints, options.via, options.credential, link, options);
    link.send(registerMessage(options.name, options.agentId, options.attachSecret !== undefined ? { attachSecret: options.attachSecret } : {}));
    const registered = await agent.firstOf(['registered', 'error'], 3_000).catch(() => undefined);
    if (registered?.['type'] !== 'registered') throw new Error(`agent ${options.name} not registered: ${JSON.stringify(registered)}`);
    return agent;
  }

  /** Every control message received, in order. */
  get messages(): Array<Record<string, any>> {
    return this.control.received as Array<Record<string, any>>;
  }

  /** Control messages of `type` received so far. */
  messagesOf(type: string): Array<Record<string, unknown>> {
    return this.messages.filter((m) => m['type'] === type);
  }

  /** True once the relay closed the control connection. */
  get disconnected(): boolean {
    return this.closed;
  }

  /** Resolves with the first message of `type` (waiting for it if needed). */
  next(type: string, timeoutMs = 3_000): Promise<Record<string, any>> {
    return this.firstOf([type], timeoutMs);
  }

  /** Resolves with the first message of any of `types` (waiting for one if needed). */
  private async firstOf(types: readonly string[], timeoutMs: number): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    const what = types.join(' or ');
    for (;;) {
      const found = this.messages.find((m) => types.includes(m['type']));
      if (found) return found;
      if (this.closed) throw new Error(`control connection closed before ${what}`);
      if (Date.now() > deadline) throw new Error(`no ${what} message`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  /** Sends any control message. */
  send(message: object): void {
    this.control.send(message);
  }

  /** Opens the data connection for `sessionId` with this agent's credential; resolves with the link, or the refusal. */
  async openData(sessionId: string): Promise<Link | Outcome> {
    const link =
      this.via === 'wss'
        ? await openWebSocketLink(this.endpoints, `/v1/agent/sessions/${sessionId}`, this.credential)
        : await openTcpsLink(this.endpoints, { op: 'agentData', sessionId }, this.credential);
    if (isOutcome(link)) return link;
    const connection = {
      closed: false,
      send: (bytes: Buffer) => link.send(bytes),
      received: () => link.bytes(),
      onReceive: (listener: (chunk: Buffer) => void) => link.onBytes(listener),
    };
    void link.closed.then(() => (connection.closed = true));
    this.dataLinks.push(link);
    this.dataConnections.push(connection);
    this.behaviour.onDataConnection?.(connection);
    return link;
  }

  /** Drops the control connection (and any data connection) abruptly. */
  close(): void {
    this.control.close();
    for (const link of this.dataLinks) link.close();
  }

  private receive(message: Record<string, any>): void {
    if (message['type'] === 'ping' && this.behaviour.answerPings !== false) this.control.send({ type: 'pong', id: message['id'] });
    if (message['type'] === 'open') {
      const sessionId = String(message['sessionId']);
      this.opens.push(sessionId);
      if (this.autoOpen) this.autoOpenData(sessionId);
    }
    this.wakeAll();
  }

  private autoOpenData(sessionId: string): void {
    this.openData(sessionId).then(
      (link) => {
        if (isOutcome(link)) this.dataErrors.push(new Error(`agentData refused: ${JSON.stringify(link)}`));
      },
      (error: Error) => this.dataErrors.push(error),
    );
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/**
 * A hostile (or merely wrong) agent: opens a control connection with `credential`,
 * sends `messages` in order, and reports how the relay ended it: the HTTP or hello
 * refusal, or the `error` control message (code) and the WebSocket close code. A
 * `registered` answer is reported as code `REGISTERED`, so that a refusal row fails.
 */
export async function agentAttempt(
  endpoints: RelayEndpoints,
  via: 'wss' | 'tcps',
  credential: PeerCredential,
  messages: ReadonlyArray<object | string | Buffer>,
  timeoutMs = 3_000,
): Promise<Outcome> {
  const link = await openControl(endpoints, via, credential);
  if (isOutcome(link)) return link;
  for (const message of messages) link.send(message);
  const timedOut = Symbol('timeout');
  let timer: NodeJS.Timeout | undefined;
  const closeCode = await Promise.race([link.closed, new Promise<symbol>((r) => (timer = setTimeout(() => r(timedOut), timeoutMs)))]);
  clearTimeout(timer);
  const registered = link.received.some((m) => (m as { type?: unknown }).type === 'registered');
  const error = link.received.find((m) => (m as { type?: unknown }).type === 'error') as { code?: string; message?: string } | undefined;
  link.close();
  if (registered) return { kind: 'control', code: 'REGISTERED' };
  if (closeCode === timedOut) return { kind: 'control', code: 'STILL_OPEN' };
  return {
    kind: 'control',
    ...(error?.code ? { code: error.code } : {}),
    ...(error?.message ? { message: error.message } : {}),
    ...(typeof closeCode === 'number' ? { detail: closeCode } : {}),
  };
}
