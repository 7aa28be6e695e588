import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttachServer, type AttachServer } from '../../src/client/attachServer.js';
import { fetchTargets } from '../../src/dial/relayTargetList.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, refusalSeenOnPort } from '../support/relay/relayClient.js';

/**
 * JWT bearer tokens end to end: a real relay with `auth.jwt` enabled, a real agent and
 * debugpy (the agent authenticates with the relay secret), and clients that present
 * tokens over wss and tcps. Scopes decide each session; a token that expires ends no
 * running session but opens no new one.
 */
const issuer = 'https://idp.e2e.test';
const audience = 'dbgrelay-e2e';
const target = 'web-jwt';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

let relay: E2eRelay;
let debuggee: Debuggee;
const attaches: AttachServer[] = [];
const clients: DapTestClient[] = [];

/** A token from the "identity provider" (no clock tolerance on the relay, so exp is exact). */
function token(scope: string, lifetimeS: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('alice')
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeS)
    .sign(privateKey);
}

function trust() {
  return caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile);
}

async function attachWith(relayUrl: string, tokenValue: string | (() => string)): Promise<AttachServer> {
  const server = await startAttachServer({ endpoint: parseRelayEndpoint(relayUrl), trust: trust(), target, port: 0, token: tokenValue });
  attaches.push(server);
  return server;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-jwt-e2e-'));
  const keyFile = join(dir, 'idp.pub.pem');
  writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  relay = await startE2eRelay({
    overrides: { auth: { jwt: { enabled: true, algorithms: ['EdDSA'], issuer, audience, keyFile, maxLifetimeS: 600, clockToleranceS: 0 } } },
  });
  debuggee = startDebuggee({ relayUrl: relay.wssUrl, name: target, secret: relay.secret, caFile: relay.caFile });
  const admin = await token('admin', 300);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = (await fetchTargets({ endpoint: parseRelayEndpoint(relay.wssUrl), trust: trust(), token: admin })).map((t) => t.name);
    if (names.includes(target)) break;
    if (Date.now() > deadline) throw new Error(`target ${target} never registered; agent output:\n${debuggee.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const server of attaches) await server.close();
  debuggee?.kill();
  await relay?.stop();
});

describe('JWT sessions with a real debugpy', () => {
  it('lists the target for a client token whose scope matches, and hides it from one whose scope does not', async () => {
    for (const relayUrl of [relay.wssUrl, relay.tcpsUrl]) {
      const endpoint = parseRelayEndpoint(relayUrl);
      expect((await fetchTargets({ endpoint, trust: trust(), token: await token('attach:web-*', 60) })).map((t) => t.name)).toEqual([target]);
      expect(await fetchTargets({ endpoint, trust: trust(), token: await token('attach:db-*', 60) })).toEqual([]);
    }
  });

  it('refuses a token for another target before any DAP byte reaches debugpy, over wss and tcps', async () => {
    for (const relayUrl of [relay.wssUrl, relay.tcpsUrl]) {
      const message = await refusalSeenOnPort((await attachWith(relayUrl, await token('attach:db-*', 60))).address.port);
      expect(message).toMatch(/does not allow to attach to target "web-jwt".*AUTH_FAILED/);
    }
  });

  it('attaches with attach:web-*; after the token expires the running session goes on and no new one opens', async () => {
    const lifetimeS = 10;
    const shortLived = await token('attach:web-*', lifetimeS);
    const expiresAt = (Math.floor(Date.now() / 1000) + lifetimeS) * 1000;
    const server = await attachWith(relay.wssUrl, shortLived);
    const client = await attachSession(server.address.port);
    clients.push(client);
    const before = await client.request<DebugProtocol.ThreadsResponse>('threads');
    expect(before.body.threads.some((t) => t.name.includes('MainThread'))).toBe(true);
    expect(Date.now()).toBeLessThan(expiresAt);

    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1_500));
    // The running session is untouched by the expiry.
    const after = await client.request<DebugProtocol.ThreadsResponse>('threads');
    expect(after.body.threads.length).toBe(before.body.threads.length);
    // A new session with the same (now expired) token is refused.
    expect(await refusalSeenOnPort(server.address.port)).toMatch(/token expired.*AUTH_FAILED/);
    await client.request('disconnect', { terminateDebuggee: false });
    await client.close();
  }, 60_000);

  it('attaches over tcps with a fresh token in the hello line', async () => {
    const fresh = await token('attach:web-jwt', 60);
    const server = await attachWith(relay.tcpsUrl, fresh);
    // debugpy allows one debugger at a time: give the previous session's teardown time.
    let client: DapTestClient | undefined;
    const deadline = Date.now() + 20_000;
    while (!client) {
      try {
        client = await attachSession(server.address.port);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    clients.push(client);
    const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
    expect(threads.body.threads.length).toBeGreaterThan(0);
    await client.request('disconnect', { terminateDebuggee: false });
    const log = relay.logText();
    expect(log).toMatch(/"principal":"jwt:alice".*"session started"|"session started".*"principal":"jwt:alice"/);
    for (const part of fresh.split('.').slice(1)) expect(log).not.toContain(part);
  }, 60_000);
});
