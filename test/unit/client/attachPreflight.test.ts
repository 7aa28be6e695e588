import type { IncomingMessage } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkBeforeAttach } from '../../../src/client/attachPreflight.js';
import { RelayError } from '../../../src/common/relayError.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { pinTrust, type TlsTrust } from '../../../src/dial/tlsTrust.js';
import { fakeTargetInfo } from '../../support/fakes/fakeTargetInfo.js';
import { startFakeHttpsRelay, startFakeTcpsRelay, type FakeRelay } from '../../support/fakes/fakeRelay.js';
import { testCertificates, type TestCertificates } from '../../support/keys/testCertificates.js';

let certs: TestCertificates;
let trust: TlsTrust;
let relay: FakeRelay | undefined;
beforeAll(() => {
  certs = testCertificates();
  trust = pinTrust(certs.caFingerprint);
});
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

function listing(...names: Array<[string, number]>): { status: number; body: string } {
  return { status: 200, body: JSON.stringify({ ok: true, targets: names.map(([name, sessions]) => fakeTargetInfo(name, sessions)) }) };
}

/** The real relay's answer to a target's attach secret asking the target list. */
const refusedListing = { status: 401, body: '{"error":{"code":"AUTH_FAILED","message":"credential refused"}}' };

/** A relay before revision 1.14: an attach path without an upgrade is BAD_REQUEST; everything else gets `answer`. */
function beforeAttachCheck(answer: { status: number; body: string }): (req: IncomingMessage) => { status: number; body: string } {
  return (req) => (req.url?.startsWith('/v1/attach/') ? { status: 400, body: '{"error":{"code":"BAD_REQUEST","message":"this endpoint requires a WebSocket upgrade"}}' } : answer);
}

async function refusal(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayError);
  return error as RelayError;
}

describe('checkBeforeAttach', () => {
  it("asks a relay with the attach check (1.15) for its verdict and the target's entry, and never lists with a secret", async () => {
    // As the real relay: the attach check admits a target's attach secret and carries the entry; the list refuses that secret.
    relay = await startFakeHttpsRelay(certs, (req) =>
      req.url === '/v1/attach/web-1' ? { status: 200, body: JSON.stringify({ ok: true, target: fakeTargetInfo('web-1', 1) }) } : refusedListing,
    );
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const checked = await checkBeforeAttach({ endpoint, trust, secret: 'attach-secret-of-web-1', target: 'web-1', secretCredential: true, takeover: true });
    expect(checked.target?.name).toBe('web-1');
    expect(checked.notes).toEqual([]);
    expect(relay.seen.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['GET /v1/attach/web-1']);
  });

  it('with a 1.14 relay (no entry in the answer), lists for the entry with a token but never with a secret', async () => {
    relay = await startFakeHttpsRelay(certs, (req) => (req.url === '/v1/attach/web-1' ? { status: 200, body: '{"ok":true}' } : listing(['web-1', 0])));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const withSecret = await checkBeforeAttach({ endpoint, trust, secret: 'attach-secret-of-web-1', target: 'web-1', secretCredential: true });
    expect(withSecret.target).toBeUndefined();
    expect(relay.seen.map((line) => line.split(' ')[1])).toEqual(['/v1/attach/web-1']);
    const withToken = await checkBeforeAttach({ endpoint, trust, token: 'a.b.c', target: 'web-1' });
    expect(withToken.target?.name).toBe('web-1');
    expect(relay.seen.map((line) => line.split(' ')[1])).toEqual(['/v1/attach/web-1', '/v1/attach/web-1', '/v1/targets']);
  });

  it('bounds all its requests together by one deadline (timeoutMs), not each by its own', async () => {
    relay = await startFakeHttpsRelay(certs, (req) =>
      req.url === '/v1/attach/web-1' ? { status: 200, body: '{"ok":true}', delayMs: 600 } : { ...listing(['web-1', 0]), delayMs: 600 },
    );
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const started = Date.now();
    const checked = await checkBeforeAttach({ endpoint, trust, token: 'a.b.c', target: 'web-1', timeoutMs: 900 });
    // The check took ~600 ms; the listing had the ~300 ms left (too short for its 600 ms), not 900 ms of its own.
    expect(checked.target).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_600);
    expect(relay.seen.map((line) => line.split(' ')[1])).toEqual(['/v1/attach/web-1', '/v1/targets']);
  });

  it("fails with the attach check's refusal: TARGET_BUSY", async () => {
    const busy = '{"error":{"code":"TARGET_BUSY","message":"target \\"web-1\\" is being debugged by alice since 2026-12-05T22:00:00.000Z"}}';
    relay = await startFakeHttpsRelay(certs, () => ({ status: 409, body: busy }));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const error = await refusal(checkBeforeAttach({ endpoint, trust, secret: 's', target: 'web-1' }));
    expect(error.code).toBe('TARGET_BUSY');
    expect(error.message).toContain('alice');
  });

  it('with a relay before the attach check, asks for the one page that starts at the target, and notes open sessions', async () => {
    relay = await startFakeHttpsRelay(certs, beforeAttachCheck(listing(['web-1', 2])));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const checked = await checkBeforeAttach({ endpoint, trust, secret: 'relay-secret', target: 'web-1', secretCredential: true });
    expect(checked.target?.name).toBe('web-1');
    expect(checked.notes.join('\n')).toContain('2 session(s) open');
    expect(checked.notes.join('\n')).toContain('TARGET_BUSY');
    expect(relay.seen).toHaveLength(2);
    expect(relay.seen[1]).toMatch(/^GET \/v1\/targets /);
  });

  it('fails with UNKNOWN_TARGET when the page does not start with the target', async () => {
    relay = await startFakeHttpsRelay(certs, beforeAttachCheck(listing(['web-2', 0])));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const error = await refusal(checkBeforeAttach({ endpoint, trust, secret: 'relay-secret', target: 'web-1' }));
    expect(error.code).toBe('UNKNOWN_TARGET');
    expect(error.message).toContain('"web-1"');
    expect(error.message).toContain('attach scopes');
  });

  it('passes a secret the relay will not let list targets (an attach secret), saying what was not checked', async () => {
    relay = await startFakeHttpsRelay(certs, beforeAttachCheck({ status: 401, body: '{"error":{"code":"AUTH_FAILED","message":"credential refused"}}' }));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    const checked = await checkBeforeAttach({ endpoint, trust, secret: 'attach-secret-of-web-1', target: 'web-1', secretCredential: true });
    expect(checked.target).toBeUndefined();
    expect(checked.notes.join('\n')).toContain('allows only attaching');
  });

  it('checks only reach and trust through a front end that does not forward the target list (404)', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 404, body: 'Not Found' }));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}/ptvsd`);
    const checked = await checkBeforeAttach({ endpoint, trust, secret: 'relay-secret' });
    expect(checked.notes.join('\n')).toContain('only reach and trust were checked');
  });

  it('fails with AUTH_FAILED for a refused token', async () => {
    relay = await startFakeHttpsRelay(certs, () => ({ status: 401, body: '{"error":{"code":"AUTH_FAILED","message":"credential refused"}}' }));
    const endpoint = parseRelayEndpoint(`wss://127.0.0.1:${relay.port}`);
    expect((await refusal(checkBeforeAttach({ endpoint, trust, token: 'a.b.c', target: 'web-1' }))).code).toBe('AUTH_FAILED');
  });

  it('words a direct endpoint\'s refusal without "relay"', async () => {
    relay = await startFakeTcpsRelay(certs, (_line, socket) => socket.end('{"ok":false,"error":{"code":"AUTH_FAILED","message":"the secret is wrong"}}\n'));
    const endpoint = parseRelayEndpoint(`tcps://127.0.0.1:${relay.port}`);
    const error = await refusal(checkBeforeAttach({ endpoint, trust, secret: 'wrong', target: 'ptvsd', direct: true, secretCredential: true }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('debug endpoint');
    expect(error.message).not.toMatch(/\brelay\b/);
  });
});
