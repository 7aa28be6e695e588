import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttachServer, type AttachServer } from '../../src/client/attachServer.js';
import { fetchTargets } from '../../src/dial/relayTargetList.js';
import { parseRelayEndpoint } from '../../src/dial/relayEndpoint.js';
import { caTrust } from '../../src/dial/tlsTrust.js';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, evaluate, refusalSeenOnPort, waitForStop } from '../support/relay/relayClient.js';

/**
 * Group members (`GROUP/MEMBER`, docs/protocol.md §5): processes registered as
 * `grp-1/{pid}` next to their group `grp-1`, each attachable by its own name over
 * tcps and wss, covered by a grant for the group, and gone from the list when the
 * process exits. Credentials are JWTs, so the group grant is what lets them in.
 */
const issuer = 'https://idp.e2e.test';
const audience = 'dbgrelay-e2e';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
let relay: E2eRelay;
const debuggees: Debuggee[] = [];
const attaches: AttachServer[] = [];
const clients: DapTestClient[] = [];
let members: Debuggee[] = [];

function token(scope: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('ops')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

const trust = () => caTrust(readFileSync(relay.caFile, 'utf8'), relay.caFile);

async function names(scope = 'admin'): Promise<string[]> {
  return (await fetchTargets({ endpoint: parseRelayEndpoint(relay.tcpsUrl), trust: trust(), token: await token(scope) })).map((t) => t.name);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-group-e2e-'));
  const keyFile = join(dir, 'idp.pub.pem');
  writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  relay = await startE2eRelay({ overrides: { auth: { jwt: { enabled: true, algorithms: ['EdDSA'], issuer, audience, keyFile, maxLifetimeS: 600, clockToleranceS: 0 } } } });
  const register = await token('register:grp-1');
  const start = (name: string, relayUrl: string): Debuggee => {
    const debuggee = startDebuggee({ relayUrl, name, secret: undefined, caFile: relay.caFile, env: { DBGRELAY_TOKEN: register }, extraArgs: ['--label', 'server=test'] });
    debuggees.push(debuggee);
    return debuggee;
  };
  start('grp-1', relay.tcpsUrl);
  members = [start('grp-1/{pid}', relay.tcpsUrl), start('grp-1/{pid}', relay.wssUrl)];
  await until('the group and two members listed', async () => (await names()).filter((n) => n.startsWith('grp-1')).length === 3);
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const attach of attaches) await attach.close().catch(() => undefined);
  for (const debuggee of debuggees) debuggee.kill();
  await relay?.stop();
});

describe('group members', () => {
  it('register under their own pid-templated names, next to the group', async () => {
    const listed = await names();
    for (const member of members) expect(listed).toContain(`grp-1/${member.process.pid}`);
    expect(listed).toContain('grp-1');
    // a client granted the group sees the members; one granted a member sees only it
    expect((await names('attach:grp-1')).sort()).toEqual(['grp-1', ...members.map((m) => `grp-1/${m.process.pid}`)].sort());
    expect(await names(`attach:grp-1/${members[0]!.process.pid}`)).toEqual([`grp-1/${members[0]!.process.pid}`]);
  });

  it.each(['tcps', 'wss'] as const)('are attachable by name over %s with a grant for the group, and debugged', async (scheme) => {
    const member = members[scheme === 'tcps' ? 0 : 1]!;
    const name = `grp-1/${member.process.pid}`;
    const attach = await startAttachServer({
      endpoint: parseRelayEndpoint(scheme === 'tcps' ? relay.tcpsUrl : relay.wssUrl),
      trust: trust(),
      target: name,
      port: 0,
      token: await token('attach:grp-1'),
    });
    attaches.push(attach);
    const client = await attachSession(attach.address.port, { breakpoints: { path: webAppPath, lines: [{ line: markerLine('WORKER') }] } });
    clients.push(client);
    const { frame } = await waitForStop(client, 'breakpoint');
    expect(await evaluate(client, '__import__("os").getpid()', frame.id)).toBe(String(member.process.pid));
    await client.request('setBreakpoints', { source: { path: webAppPath }, breakpoints: [] });
    await client.request('disconnect', { terminateDebuggee: false });
  });

  it('refuses a client granted another member', async () => {
    const other = `grp-1/${members[1]!.process.pid}`;
    const attach = await startAttachServer({
      endpoint: parseRelayEndpoint(relay.tcpsUrl),
      trust: trust(),
      target: other,
      port: 0,
      token: await token(`attach:grp-1/${members[0]!.process.pid}`),
    });
    attaches.push(attach);
    expect(await refusalSeenOnPort(attach.address.port)).toContain('AUTH_FAILED');
  });

  it('leave the list when their process exits; the group stays', async () => {
    const gone = members[0]!;
    gone.kill();
    await until('the exited member leaving the list', async () => !(await names()).includes(`grp-1/${gone.process.pid}`), 10_000);
    expect(await names()).toContain('grp-1');
  });
});
