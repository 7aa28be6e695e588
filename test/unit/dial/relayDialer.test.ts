import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { dialSession } from '../../../src/dial/relayDialer.js';
import { fetchTargets } from '../../../src/dial/relayTargetList.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { pinTrust, type TlsTrust } from '../../../src/dial/tlsTrust.js';
import type { Transport } from '../../../src/transport/transport.js';
import { LivenessTransport } from '../../../src/liveness/livenessTransport.js';
import { testCertificates, type TestCertificates } from '../../support/keys/testCertificates.js';
import { startFakeHttpsRelay, startFakeTcpsRelay, type FakeRelay } from '../../support/fakes/fakeRelay.js';

const secret = 's3cr3t-example';
const target = {
  name: 'web-1',
  labels: { env: 'staging' },
  host: 'web-host-1',
  pid: 4242,
  python: '3.11.7',
  debugpy: '1.8.22',
  agent: '0.1.0',
  transport: 'wss',
  connectedAt: '2026-11-21T09:30:00.000Z',
  sessions: 0,
};

let certs: TestCertificates;
let trust: TlsTrust;
let relay: FakeRelay | undefined;
const opened: Transport[] = [];

beforeAll(() => {
  certs = testCertificates();
  trust = pinTrust(certs.caFingerprint);
});

afterEach(async () => {
  for (const t of opened.splice(0)) t.destroy();
  await relay?.close();
  relay = undefined;
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    const value = await promise;
    if (value && typeof (value as Transport).destroy === 'function') (value as Transport).destroy();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function firstData(transport: Transport): Promise<Buffer> {
  return new Promise((resolve) => transport.onData(resolve));
}

describe('dialSession over wss', () => {
  it('upgrades GET <base>/v1/attach/<target> with Basic auth and carries binary DAP bytes', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({
      upgrade: (ws) => {
        ws.on('message', (data, isBinary) => ws.send(Buffer.concat([Buffer.from('echo:'), data as Buffer]), { binary: isBinary }));
      },
    }));
    const endpoint = parseRelayEndpoint(`wss://localhost:${relay.port}/base`);
    const transport = await dialSession({ endpoint, target: 'web-1', secret, trust });
    opened.push(transport);
    expect(transport.kind).toBe('wss');
    const reply = firstData(transport);
    transport.send(Buffer.from('Content-Length: 2\r\n\r\n{}'));
    expect((await reply).toString()).toBe('echo:Content-Length: 2\r\n\r\n{}');
    expect(relay.seen).toEqual([`UPGRADE /base/v1/attach/web-1 Basic ${Buffer.from(`${secret}:`).toString('base64')}`]);
  });

  it('takes the secret from the URL user part when none is given', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 401, body: '{"error":{"code":"AUTH_FAILED","message":"credential refused"}}' }));
    const endpoint = parseRelayEndpoint(`wss://urlsecret@127.0.0.1:${relay.port}`);
    const error = await rejection(dialSession({ endpoint, target: 'web-1', trust }));
    expect(isRelayError(error, 'AUTH_FAILED')).toBe(true);
    expect(relay.seen[0]).toContain(Buffer.from('urlsecret:').toString('base64'));
  });

  it.each([
    [401, '{"error":{"code":"AUTH_REQUIRED","message":"a credential is required"}}', 'AUTH_REQUIRED', 'relay refused: a credential is required'],
    [
      404,
      '{ "error": { "code": "UNKNOWN_TARGET", "message": "no target named \\"web-9\\" is connected" } }',
      'UNKNOWN_TARGET',
      'relay refused: no target named "web-9" is connected',
    ],
    [502, '<html>bad gateway</html>', 'AGENT_OPEN_FAILED', 'relay refused: HTTP 502 Refused'],
    [418, '{"error":{"code":"TEAPOT","message":"short and stout"}}', 'INTERNAL', 'relay refused: short and stout (relay code "TEAPOT")'],
  ])('maps an HTTP %i refusal to a RelayError', async (status, body, code, message) => {
    relay = await startFakeHttpsRelay(certs, () => ({ status, body }));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const error = await rejection(dialSession({ endpoint, target: 'web-9', secret, trust }));
    expect(isRelayError(error)).toBe(true);
    expect((error as unknown as { code: string }).code).toBe(code);
    expect(error.message).toBe(message);
  });

  it('never repeats the secret, even when the relay echoes it', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 401, body: JSON.stringify({ error: { code: 'AUTH_FAILED', message: `bad secret ${secret}` } }) }));
    const error = await rejection(dialSession({ endpoint: parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust }));
    expect(error.message).toBe('relay refused: bad secret ***');
  });

  it('sends nothing to a relay whose certificate does not match the pin', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 500, body: '{}' }));
    const error = await rejection(
      dialSession({ endpoint: parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust: pinTrust(testCertificates('other').caFingerprint) }),
    );
    expect(isRelayError(error, 'TLS_PIN_MISMATCH')).toBe(true);
    expect(relay.seen).toEqual([]);
  });

  it('refuses an invalid target name before dialing', async () => {
    const error = await rejection(dialSession({ endpoint: parseRelayEndpoint('wss://127.0.0.1:1'), target: '../etc', secret, trust }));
    expect(isRelayError(error, 'TARGET_NAME_INVALID')).toBe(true);
  });
});

describe('dialSession with takeover', () => {
  it('asks for it with X-Dbgrelay-Takeover: 1 over wss, and sends no such header otherwise', async () => {
    const headers: Array<string | string[] | undefined> = [];
    relay = await startFakeHttpsRelay(certs, (req) => {
      headers.push(req.headers['x-dbgrelay-takeover']);
      return { status: 409, body: '{"error":{"code":"TARGET_BUSY","message":"target \\"web-1\\" is being debugged by jwt:bob since 2026-11-21T09:30:00.000Z"}}' };
    });
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const busy = await rejection(dialSession({ endpoint, target: 'web-1', secret, trust }));
    expect(isRelayError(busy, 'TARGET_BUSY')).toBe(true);
    expect(busy.message).toBe('relay refused: target "web-1" is being debugged by jwt:bob since 2026-11-21T09:30:00.000Z');
    await rejection(dialSession({ endpoint, target: 'web-1', secret, trust, takeover: true }));
    expect(headers).toEqual([undefined, '1']);
  });

  it('asks for it with "takeover": true in the tcps hello', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => {
      socket.end('{"ok":false,"error":{"code":"AUTH_FAILED","message":"taking a target over needs the admin grant"}}\n');
    });
    const error = await rejection(dialSession({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust, takeover: true }));
    expect(isRelayError(error, 'AUTH_FAILED')).toBe(true);
    expect(JSON.parse(relay.seen[0]!)).toEqual({ dbgrelay: 1, op: 'attach', target: 'web-1', takeover: true, heartbeatMs: 15_000, secret });
  });
});

describe('dialSession over tcps', () => {
  it('sends the attach hello and passes on the DAP bytes that follow the ok line', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => {
      socket.write('{"ok":true}\nContent-Length: 2\r\n\r\n{}');
      socket.on('data', (chunk) => socket.write(chunk));
    });
    const transport = await dialSession({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust });
    opened.push(transport);
    expect(transport.kind).toBe('tcps');
    const chunks: Buffer[] = [];
    const both = new Promise<void>((resolve) =>
      transport.onData((chunk) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).toString().endsWith('ping')) resolve();
      }),
    );
    transport.send(Buffer.from('ping'));
    await both;
    expect(Buffer.concat(chunks).toString()).toBe('Content-Length: 2\r\n\r\n{}ping');
    expect(JSON.parse(relay.seen[0]!)).toEqual({ dbgrelay: 1, op: 'attach', target: 'web-1', heartbeatMs: 15_000, secret });
    // a relay before revision 1.4 answers without heartbeatTimeoutMs: no deadline, no heartbeats
    expect(transport).not.toBeInstanceOf(LivenessTransport);
  });

  it('takes a relay that answers heartbeats as silent past its heartbeatTimeoutMs, and sends none with heartbeatMs 0', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => {
      socket.write('{"ok":true,"heartbeatTimeoutMs":300}\n');
    });
    const transport = await dialSession({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust, heartbeatMs: 100 });
    opened.push(transport);
    expect(transport).toBeInstanceOf(LivenessTransport);
    expect((transport as LivenessTransport).heartbeatMs).toBe(100);
    transport.onData(() => undefined);
    const error = await new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    expect(isRelayError(error, 'HEARTBEAT_TIMEOUT')).toBe(true);

    const off = await dialSession({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust, heartbeatMs: 0 });
    opened.push(off);
    expect(JSON.parse(relay.seen[1]!)).toEqual({ dbgrelay: 1, op: 'attach', target: 'web-1', secret });
    expect(off).not.toBeInstanceOf(LivenessTransport);
  });

  it.each([
    ['{"ok":false,"error":{"code":"UNKNOWN_TARGET","message":"no target named \\"web-9\\" is connected"}}\n', 'UNKNOWN_TARGET', /no target named "web-9"/],
    ['{"ok":false,"error":{"code":"AUTH_FAILED","message":"credential refused"}}\n', 'AUTH_FAILED', /relay refused: credential refused/],
    ['this is not json\n', 'BAD_REQUEST', /malformed hello reply/],
    ['{"ok":"yes"}\n', 'BAD_REQUEST', /malformed hello reply/],
    ['x'.repeat(9000), 'MESSAGE_TOO_LARGE', /over 8192 bytes/],
  ])('maps hello reply #%# to a RelayError', async (reply, code, message) => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => socket.end(reply));
    const error = await rejection(dialSession({ endpoint: parseRelayEndpoint(`tcps://localhost:${relay.port}`), target: 'web-9', secret, trust }));
    expect((error as unknown as { code?: string }).code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('gives up on a wss relay that completes TLS and never answers the upgrade, within the dial timeout', async () => {
    const silent = createTlsServer({ cert: certs.chainPem, key: certs.keyPem }, (socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const started = Date.now();
      const error = await rejection(dialSession({ endpoint: parseRelayEndpoint(`wss://127.0.0.1:${port}`), target: 'web-1', secret, trust, timeoutMs: 400 }));
      expect(isRelayError(error, 'RELAY_UNREACHABLE')).toBe(true);
      expect(error.message).toContain('did not answer the WebSocket upgrade within the timeout');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it('reports a relay that closes without answering', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => socket.end());
    const error = await rejection(dialSession({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), target: 'web-1', secret, trust }));
    expect(isRelayError(error, 'RELAY_UNREACHABLE')).toBe(true);
    expect(error.message).not.toContain(secret);
  });
});

describe('fetchTargets', () => {
  it('GETs <base>/v1/targets over https', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 200, body: JSON.stringify({ ok: true, targets: [target] }) }));
    const targets = await fetchTargets({ endpoint: parseRelayEndpoint(`wss://127.0.0.1:${relay.port}/r`), secret, trust });
    expect(targets).toEqual([target]);
    expect(relay.seen[0]).toMatch(/^GET \/r\/v1\/targets Basic /);
  });

  it('maps an https refusal', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 401, body: '{"error":{"code":"AUTH_FAILED","message":"credential refused"}}' }));
    const error = await rejection(fetchTargets({ endpoint: parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`), secret: 'wrong', trust }));
    expect(isRelayError(error, 'AUTH_FAILED')).toBe(true);
  });

  it('sends a targets hello over tcps', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => socket.end(JSON.stringify({ ok: true, targets: [{ ...target, transport: 'tcps' }] }) + '\n'));
    const targets = await fetchTargets({ endpoint: parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`), secret, trust });
    expect(targets.map((t) => t.transport)).toEqual(['tcps']);
    expect(JSON.parse(relay.seen[0]!)).toEqual({ dbgrelay: 1, op: 'targets', secret });
  });
});
