import { vi } from 'vitest';
import { tcpExchange, tlsExchange, tlsVersionProbe, helloBytes, helloProbe, parseHttpResponse, type Outcome } from './hostileProbes.js';
import { agentId, handshakeTimeoutMs, wrongSecret } from './hostileRelay.js';
import { basic, bearer, closedSilently, control, hello, http, RowTable, rowKit, tlsAlert, type HostileRow, type RowContext } from './hostileRowKit.js';
import { agentAttempt, registerMessage, type FakeAgent } from '../fakes/fakeAgent.js';
import { isOutcome, openWebSocketLink, type PeerCredential } from '../relay/relayLinks.js';

/**
 * Rows of the hostile-input table about the protocol: tcps hello lines, target names,
 * names and agent ids held by another identity, session ids, control messages, HTTP
 * and TLS.
 */
export function protocolRows(c: RowContext): HostileRow[] {
  const { h, secret, attachWss, upgrade, request, helloLine, token, register, mallory, fakeSessionId } = rowKit(c);
  const table = new RowTable();

  /** Runs `fn` while a client session with `web-1` (or `web-2`) is open; returns its outcome. */
  const duringSession = async (agent: FakeAgent, target: string, fn: (sessionId: string) => Promise<Outcome>, after = false): Promise<Outcome> => {
    const client = await openWebSocketLink(h.endpoints, `/v1/attach/${target}`, { secret });
    if (isOutcome(client)) throw new Error(`the legitimate session was refused: ${JSON.stringify(client)}`);
    const sessionId = agent.opens.at(-1)!;
    if (!after) {
      try {
        return await fn(sessionId);
      } finally {
        client.close();
      }
    }
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    return fn(sessionId);
  };

  /**
   * While `web-1`'s agent holds an unclaimed session id, `thief` presents it; then the
   * rightful agent must still be able to claim it (the attempt burnt nothing).
   */
  const stealPending = async (thief: PeerCredential): Promise<Outcome> => {
    c.web1.autoOpen = false;
    const opens = c.web1.opens.length;
    const client = openWebSocketLink(h.endpoints, '/v1/attach/web-1', { secret });
    try {
      await vi.waitFor(
        () => {
          if (c.web1.opens.length === opens) throw new Error('the relay never sent web-1 an open for the legitimate session');
        },
        { timeout: 2_000, interval: 5 },
      );
      const sessionId = c.web1.opens.at(-1)!;
      const stolen = await openWebSocketLink(h.endpoints, `/v1/agent/sessions/${sessionId}`, thief);
      if (!isOutcome(stolen)) {
        stolen.close();
        return { kind: 'control', code: 'SESSION_STOLEN' };
      }
      const rightful = await c.web1.openData(sessionId);
      if (isOutcome(rightful)) throw new Error(`the rightful agent could not claim its session after the attempt: ${JSON.stringify(rightful)}`);
      return stolen;
    } finally {
      c.web1.autoOpen = true;
      const link = await client;
      if (!isOutcome(link)) link.close();
    }
  };

  table.add('tcps hello', [
    { name: 'hello that is not JSON', run: () => helloProbe(h.tcps, `attach web-1 ${secret}\n`), expect: hello('BAD_REQUEST') },
    { name: 'hello that is a JSON array', run: () => helloProbe(h.tcps, `[1, "attach", "web-1"]\n`), expect: hello('BAD_REQUEST') },
    { name: 'wrong protocol version (2)', run: () => helloLine({ dbgrelay: 2, op: 'attach', target: 'web-1', secret }), expect: hello('PROTOCOL_VERSION') },
    { name: 'protocol version as a string ("1")', run: () => helloLine({ dbgrelay: '1', op: 'attach', target: 'web-1', secret }), expect: hello('PROTOCOL_VERSION') },
    { name: 'no protocol version', run: () => helloLine({ op: 'attach', target: 'web-1', secret }), expect: hello('BAD_REQUEST') },
    { name: 'unknown op ("shell")', run: () => helloLine({ dbgrelay: 1, op: 'shell', secret }), expect: hello('BAD_REQUEST') },
    {
      name: 'oversized hello line (9 KiB, no newline)',
      run: () => helloProbe(h.tcps, '{"dbgrelay":1,"op":"attach","target":"' + 'a'.repeat(9 * 1024)),
      expect: hello('MESSAGE_TOO_LARGE'),
    },
    { name: 'non-UTF-8 bytes', run: () => helloProbe(h.tcps, Buffer.from([0xff, 0xfe, 0x7b, 0xc3, 0x28, 0xa0, 0xa1, 0x7d, 0x0a])), expect: hello('BAD_REQUEST') },
    { name: 'deeply nested JSON (8,000 levels, within 8 KiB)', run: () => helloProbe(h.tcps, '['.repeat(8_000) + ']'.repeat(100) + '\n'), expect: hello('BAD_REQUEST') },
    { name: 'secret over 4096 characters', run: () => helloLine({ dbgrelay: 1, op: 'targets', secret: 'a'.repeat(5_000) }), expect: hello('BAD_REQUEST') },
    { name: 'secret of the wrong type (number)', run: () => helloLine({ dbgrelay: 1, op: 'targets', secret: 12345 }), expect: hello('BAD_REQUEST') },
    { name: 'both secret and token', run: async () => helloLine({ dbgrelay: 1, op: 'targets', secret, token: await token({ scope: 'admin' }) }), expect: hello('BAD_REQUEST') },
    { name: 'no credential', run: () => helloLine({ dbgrelay: 1, op: 'attach', target: 'web-1' }), expect: hello('AUTH_REQUIRED') },
    {
      name: 'credential hidden under __proto__',
      run: () => helloProbe(h.tcps, `{"dbgrelay":1,"op":"targets","__proto__":{"secret":${JSON.stringify(secret)}}}\n`),
      expect: hello('AUTH_REQUIRED'),
    },
    { name: 'wrong secret', run: () => helloLine({ dbgrelay: 1, op: 'attach', target: 'web-1', secret: wrongSecret() }), expect: hello('AUTH_FAILED') },
    { name: 'slow handshake: TLS, then nothing', run: () => helloProbe(h.tcps, undefined, 4 * handshakeTimeoutMs), expect: hello('HANDSHAKE_TIMEOUT') },
    {
      name: 'slow handshake: hello dripped a byte at a time',
      run: () =>
        helloProbe(
          h.tcps,
          [...'{"dbgrelay":1,"op":"targets"'].map((ch) => ({ bytes: ch, pauseMs: 100 })),
          5 * handshakeTimeoutMs,
        ),
      expect: hello('HANDSHAKE_TIMEOUT'),
    },
  ]);

  const lookAlike = 'w\u0435b-1'; // Cyrillic "е"
  table.add('target names', [
    { name: 'register "../etc"', run: () => register('wss', { secret }, '../etc'), expect: control('TARGET_NAME_INVALID') },
    { name: 'register a name with a newline', run: () => register('tcps', { secret }, 'web-1\nadmin'), expect: control('TARGET_NAME_INVALID') },
    { name: 'register a name with NUL and ESC', run: () => register('wss', { secret }, 'web\u0000\u001b[2J'), expect: control('TARGET_NAME_INVALID') },
    { name: 'register a 64-character name', run: () => register('wss', { secret }, 'w'.repeat(64)), expect: control('TARGET_NAME_INVALID') },
    { name: 'register a 10,000-character name', run: () => register('tcps', { secret }, 'w'.repeat(10_000)), expect: control('TARGET_NAME_INVALID') },
    { name: 'register a Unicode look-alike of web-1', run: () => register('wss', { secret }, lookAlike), expect: control('TARGET_NAME_INVALID') },
    { name: 'register web‐1 with a Unicode hyphen (U+2010)', run: () => register('wss', { secret }, 'web\u20101'), expect: control('TARGET_NAME_INVALID') },
    { name: 'attach to ..%2F..%2Fetc', run: () => attachWss(basic(secret), '..%2F..%2Fetc'), expect: http(400, 'TARGET_NAME_INVALID') },
    // GROUP/MEMBER names may come with their slash unencoded: "../agent" is then a target name, and an invalid one
    { name: 'attach path /v1/attach/../agent does not reach /v1/agent', run: () => upgrade('/v1/attach/../agent', basic(secret)), expect: http(400, 'TARGET_NAME_INVALID') },
    { name: 'attach to a name with %00', run: () => attachWss(basic(secret), 'web-1%00'), expect: http(400, 'TARGET_NAME_INVALID') },
    { name: 'attach to a name of 5,000 characters', run: () => attachWss(basic(secret), 'w'.repeat(5_000)), expect: http(400, 'TARGET_NAME_INVALID') },
    { name: 'attach to the look-alike of web-1', run: () => attachWss(basic(secret), encodeURIComponent(lookAlike)), expect: http(400, 'TARGET_NAME_INVALID') },
    { name: 'attach with malformed percent-encoding', run: () => attachWss(basic(secret), 'web-%E0%A4%A'), expect: http(400, 'BAD_REQUEST') },
    { name: 'attach to "../web-1" over tcps', run: () => helloLine({ dbgrelay: 1, op: 'attach', target: '../web-1', secret }), expect: hello('TARGET_NAME_INVALID') },
    { name: 'attach to a 300-character name over tcps', run: () => helloLine({ dbgrelay: 1, op: 'attach', target: 'w'.repeat(300), secret }), expect: hello('BAD_REQUEST') },
    { name: 'attach to "WEB-1" (names are case-sensitive)', run: () => attachWss(basic(secret), 'WEB-1'), expect: http(404, 'UNKNOWN_TARGET') },
  ]);

  table.add('names held by another identity', [
    {
      name: 'another identity (mallory, register:web-*) registers web-1',
      run: async () => register('wss', { token: await mallory() }, 'web-1'),
      expect: control('TARGET_NAME_IN_USE'),
    },
    {
      name: "mallory registers web-1 with web-1's agent id",
      run: async () => register('wss', { token: await mallory() }, 'web-1', c.web1AgentId),
      expect: control('TARGET_NAME_IN_USE'),
    },
    {
      name: "mallory registers a free name (web-9) with web-2's agent id",
      run: async () => register('tcps', { token: await mallory() }, 'web-9', c.web2AgentId),
      expect: control('TARGET_NAME_IN_USE'),
    },
    { name: 'another process with the relay secret registers web-2', run: () => register('tcps', { secret }, 'web-2'), expect: control('TARGET_NAME_IN_USE') },
  ]);

  table.add('session ids', [
    {
      name: 'agent data connection with a session id never issued (wss)',
      run: () => upgrade(`/v1/agent/sessions/${fakeSessionId}`, basic(secret)),
      expect: http(404, 'UNKNOWN_SESSION'),
    },
    {
      name: 'agent data connection with a session id never issued (tcps)',
      run: () => helloLine({ dbgrelay: 1, op: 'agentData', sessionId: fakeSessionId, secret }),
      expect: hello('UNKNOWN_SESSION'),
    },
    { name: 'session id too short to be one', run: () => upgrade('/v1/agent/sessions/abc', basic(secret)), expect: http(404, 'UNKNOWN_SESSION') },
    { name: 'session id with ../ in the path', run: () => upgrade('/v1/agent/sessions/..%2F..%2Fagent', basic(secret)), expect: http(404, 'UNKNOWN_SESSION') },
    {
      name: 'replayed session id while its session runs (wss, own credential)',
      run: async () => duringSession(c.web1, 'web-1', async (id) => upgrade(`/v1/agent/sessions/${id}`, bearer(await token({ sub: 'agent-web', scope: 'register:web-*' })))),
      expect: http(404, 'UNKNOWN_SESSION'),
      opensSession: true,
    },
    {
      name: 'replayed session id after its session ended (tcps, own credential)',
      run: () => duringSession(c.web2, 'web-2', (id) => helloLine({ dbgrelay: 1, op: 'agentData', sessionId: id, secret }), true),
      expect: hello('UNKNOWN_SESSION'),
      opensSession: true,
    },
    {
      name: "pending session id of web-1's agent presented by another identity (mallory)",
      run: async () => stealPending({ token: await mallory() }),
      expect: http(404, 'UNKNOWN_SESSION'),
      opensSession: true,
    },
    {
      name: "pending session id of web-1's agent presented with the relay secret",
      run: () => stealPending({ secret }),
      expect: http(404, 'UNKNOWN_SESSION'),
      opensSession: true,
    },
  ]);

  table.add('control connection', [
    { name: 'control message that is not JSON', run: () => agentAttempt(h.endpoints, 'wss', { secret }, ['{"type":"register",']), expect: control('BAD_REQUEST') },
    {
      name: 'binary frame on the control connection',
      run: () => agentAttempt(h.endpoints, 'wss', { secret }, [Buffer.from('{"type":"register"}')]),
      expect: control('BAD_REQUEST'),
    },
    {
      name: 'oversized control message over wss (65 KiB frame)',
      run: () => agentAttempt(h.endpoints, 'wss', { secret }, [JSON.stringify(registerMessage('web-7', agentId(), { pad: 'x'.repeat(65 * 1024) }))]),
      expect: { kind: 'control', detail: 1009 },
    },
    {
      name: 'oversized control line over tcps (65 KiB)',
      run: () => agentAttempt(h.endpoints, 'tcps', { secret }, [registerMessage('web-7', agentId(), { pad: 'x'.repeat(65 * 1024) })]),
      expect: control('MESSAGE_TOO_LARGE'),
    },
    { name: 'first control message is not register', run: () => agentAttempt(h.endpoints, 'wss', { secret }, [{ type: 'pong', id: 1 }]), expect: control('BAD_REQUEST') },
    {
      name: 'register with a negative pid',
      run: () => agentAttempt(h.endpoints, 'wss', { secret }, [{ ...registerMessage('web-7', agentId()), process: { pid: -1 } }]),
      expect: control('BAD_REQUEST'),
    },
    {
      name: 'register with 33 labels',
      run: () =>
        agentAttempt(h.endpoints, 'tcps', { secret }, [
          { ...registerMessage('web-7', agentId()), target: { name: 'web-7', labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) } },
        ]),
      expect: control('BAD_REQUEST'),
    },
    { name: 'register with an empty attach secret', run: () => register('wss', { secret }, 'web-7', agentId(), { attachSecret: '' }), expect: control('BAD_REQUEST') },
    { name: 'agent that never registers', run: () => agentAttempt(h.endpoints, 'wss', { secret }, [], 4 * handshakeTimeoutMs), expect: control('HANDSHAKE_TIMEOUT') },
  ]);

  table.add('HTTP', [
    { name: 'POST with upgrade headers to /v1/attach/web-1', run: () => upgrade('/v1/attach/web-1', basic(secret), 'POST'), expect: http(400, 'BAD_REQUEST') },
    {
      name: 'unsupported Sec-WebSocket-Version on an attach upgrade',
      run: () =>
        request(
          `GET /v1/attach/web-1 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${basic(secret)[0]!.join(': ')}\r\n\r\n`,
        ),
      expect: http(400, 'BAD_REQUEST'),
    },
    {
      name: 'WebSocket upgrade without Sec-WebSocket-Key',
      run: () =>
        request(
          `GET /v1/attach/web-1 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n${basic(secret)[0]!.join(': ')}\r\n\r\n`,
        ),
      expect: http(400, 'BAD_REQUEST'),
    },
    { name: 'DELETE with upgrade headers to /v1/agent', run: () => upgrade('/v1/agent', basic(secret), 'DELETE'), expect: http(400, 'BAD_REQUEST') },
    {
      name: 'Upgrade: h2c on an attach path',
      run: () =>
        request(
          `GET /v1/attach/web-1 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n${basic(secret)[0]!.join(': ')}\r\n\r\n`,
        ),
      expect: http(400, 'BAD_REQUEST'),
    },
    { name: 'PUT /v1/targets', run: () => request({ method: 'PUT', path: '/v1/targets', headers: basic(secret), body: '{}' }), expect: http(400, 'BAD_REQUEST') },
    { name: 'DELETE /v1/agent', run: () => request({ method: 'DELETE', path: '/v1/agent', headers: basic(secret) }), expect: http(400, 'BAD_REQUEST') },
    { name: 'GET /v1/attach/web-1 without an upgrade', run: () => request({ path: '/v1/attach/web-1', headers: basic(secret) }), expect: http(400, 'BAD_REQUEST') },
    { name: 'unknown path /v1/admin', run: () => request({ path: '/v1/admin', headers: basic(secret) }), expect: http(404, 'NOT_FOUND') },
    { name: 'upgrade to an unknown version path /v2/agent', run: () => upgrade('/v2/agent', basic(secret)), expect: http(404, 'NOT_FOUND') },
    { name: 'upgrade to /v1/attach/ with no target', run: () => upgrade('/v1/attach/', basic(secret)), expect: http(404, 'NOT_FOUND') },
    {
      name: 'header injection: CRLF in the target name',
      run: () => attachWss(basic(secret), 'web-1%0d%0aSet-Cookie:%20pwned=1'),
      expect: http(400, 'TARGET_NAME_INVALID'),
    },
    {
      name: 'header injection: bare LF inside a header value',
      run: () =>
        request(`GET /v1/targets HTTP/1.1\r\nHost: localhost\r\nX-Note: a\nAuthorization: Basic ${Buffer.from(`${secret}:`).toString('base64')}\r\nConnection: close\r\n\r\n`),
      expect: http(400),
    },
    {
      name: 'request smuggling: Content-Length and Transfer-Encoding together',
      run: () => request(`POST /v1/targets HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`),
      expect: http(400),
    },
    { name: 'oversized headers (20 KiB)', run: () => request({ path: '/v1/targets', headers: [['X-Pad', 'p'.repeat(20 * 1024)]] }), expect: http(431) },
  ]);

  table.add('TLS', [
    { name: 'TLS 1.0 client to the wss listener', run: () => tlsVersionProbe(h.wss, 'TLSv1'), expect: tlsAlert },
    { name: 'TLS 1.1 client to the wss listener', run: () => tlsVersionProbe(h.wss, 'TLSv1.1'), expect: tlsAlert },
    { name: 'TLS 1.0 client to the tcps listener', run: () => tlsVersionProbe(h.tcps, 'TLSv1'), expect: tlsAlert },
    { name: 'TLS 1.1 client to the tcps listener', run: () => tlsVersionProbe(h.tcps, 'TLSv1.1'), expect: tlsAlert },
    {
      name: 'plain HTTP to the wss port',
      run: async () => plainOutcome(await tcpExchange(h.wss.port, `GET /v1/targets HTTP/1.1\r\nHost: localhost\r\n${basic(secret)[0]!.join(': ')}\r\n\r\n`)),
      expect: closedSilently,
    },
    {
      name: 'plain TCP hello to the tcps port',
      run: async () => plainOutcome(await tcpExchange(h.tcps.port, helloBytes({ dbgrelay: 1, op: 'targets', secret }))),
      expect: closedSilently,
    },
    {
      name: 'slow TLS handshake on the wss port (TCP, then nothing)',
      run: async () => plainOutcome(await tcpExchange(h.wss.port, undefined, 4 * handshakeTimeoutMs)),
      expect: closedSilently,
    },
    { name: 'slow TLS handshake on the tcps port', run: async () => plainOutcome(await tcpExchange(h.tcps.port, undefined, 4 * handshakeTimeoutMs)), expect: closedSilently },
    {
      name: 'slow HTTP headers on the wss port',
      run: async () => {
        const { received, closedByPeer } = await tlsExchange(h.wss, 'GET /v1/targets HTTP/1.1\r\nHost: localhost\r\n', 4 * handshakeTimeoutMs);
        return received.length > 0 ? parseHttpResponse(received) : { kind: 'closed', detail: closedByPeer ? 'closed' : 'still open' };
      },
      expect: http(408),
    },
  ]);

  return table.rows;
}

/** A plain-TCP exchange: the relay must not answer in HTTP or JSON, and must close. */
function plainOutcome(exchange: { received: Buffer; closedByPeer: boolean }): Outcome {
  const text = exchange.received.toString('latin1');
  if (/^HTTP\//.test(text) || text.includes('{')) return { kind: 'http', raw: text };
  // A TLS alert record (content type 21) is the only thing a TLS server may send here.
  if (exchange.received.length > 0 && exchange.received[0] !== 0x15) return { kind: 'closed', detail: 'unexpected bytes', raw: text };
  return { kind: 'closed', detail: exchange.closedByPeer ? 'closed' : 'still open' };
}
