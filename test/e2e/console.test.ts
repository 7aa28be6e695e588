import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DapTestClient } from '../support/dap/dapTestClient.js';
import { launchChromium, relayBrowserContext } from '../support/browser/chromium.js';
import { audience, generateTestKey, issuer, keyDir, publicPem, signToken, writeKey } from '../support/keys/jwtFixtures.js';
import { markerLine, startDebuggee, webAppPath, type Debuggee } from '../support/processes/debuggee.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';
import { attachSession, startAttach, waitForStop, waitForTargets, type ClientAccess } from '../support/relay/relayClient.js';

/**
 * The web console (docs/operations.md "Web console") in headless Chromium against the
 * real relay, agent and debugpy: the login form; an engineer (a JWT with
 * `attach:web-*`) sees targets, sessions and the audit log without any action, and the
 * API refuses actions with 403; an administrator (the relay secret) resumes a program
 * paused at a breakpoint, then ends the session, and the program runs on. Each view is
 * screenshot; with `DBGRELAY_CONSOLE_SCREENSHOTS=docs` the pictures replace
 * docs/console-*.png.
 */
const target = 'web-console';
/** The page redraws every 2 s: a row shows a change after at most that, under load a little later. */
const pageRefresh = { timeout: 10_000, interval: 100 };
const keys = generateTestKey('EdDSA');
const shots = mkdtempSync(join(tmpdir(), 'dbgrelay-console-shots-'));

let relay: E2eRelay;
let access: ClientAccess;
let debuggee: Debuggee;
let browser: Browser;
let client: DapTestClient | undefined;
let closeAttach: (() => Promise<void>) | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const keyFile = writeKey(keyDir(), 'idp.pub.pem', publicPem(keys.verifying));
  relay = await startE2eRelay({
    overrides: { auth: { jwt: { enabled: true, algorithms: ['EdDSA'], issuer, audience, keyFile, maxLifetimeS: 3600, clockToleranceS: 5 } } },
  });
  access = { relayUrl: relay.wssUrl, caFile: relay.caFile, secret: relay.secret };
  debuggee = startDebuggee({ relayUrl: relay.wssUrl, name: target, secret: relay.secret, caFile: relay.caFile, extraArgs: ['--label', 'team=payments', '--label', 'env=staging'] });
  [browser] = await Promise.all([launchChromium(), waitForTargets(access, (t) => t.some((x) => x.name === target && x.debugger === 'ok'), 30_000)]);
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await closeAttach?.();
  await browser?.close();
  debuggee?.kill();
  await relay?.stop();
});

function consoleUrl(): string {
  return `${relay.wssUrl.replace('wss:', 'https:')}/console/`;
}

async function openConsole(): Promise<Page> {
  const context = await relayBrowserContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(consoleUrl());
  return page;
}

async function logIn(page: Page, credential: string): Promise<void> {
  await page.fill('#credential', credential);
  await page.click('#login-form button[type=submit]');
  await page.locator('#nav').waitFor({ state: 'visible' });
}

async function screenshot(page: Page, view: string): Promise<void> {
  const file = join(shots, `console-${view}.png`);
  await page.screenshot({ path: file });
  const png = readFileSync(file);
  // PNG signature, then the IHDR width and height: the 1200×800 viewport
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 800]);
  if (process.env['DBGRELAY_CONSOLE_SCREENSHOTS'] === 'docs') copyFileSync(file, join(import.meta.dirname, '..', '..', 'docs', `console-${view}.png`));
}

function auditEvents(event: string): Array<Record<string, unknown>> {
  return readFileSync(join(relay.dataDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['event'] === event);
}

/** A DAP client stopped at the web app's HANDLE breakpoint, through `dbgrelay attach` with the relay secret. */
async function pausedSession(): Promise<DapTestClient> {
  const attach = await startAttach(access, target);
  closeAttach = () => attach.close();
  const session = await attachSession(attach.address.port, { breakpoints: { path: webAppPath, lines: [{ line: markerLine('HANDLE') }] } });
  await waitForStop(session, 'breakpoint');
  return session;
}

describe('web console', () => {
  it('serves its page with a strict content security policy, and refuses a wrong secret at the login form', async () => {
    const page = await openConsole();
    const response = await page.request.get(consoleUrl());
    expect(response.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers()['x-frame-options']).toBe('DENY');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#credential', 'not-the-secret');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#message')).toContain('refused');
    expect(await page.isVisible('#nav')).toBe(false);
    await page.fill('#credential', '');
    await screenshot(page, 'login');
  });

  it('shows an engineer targets, sessions and audit records read-only; the API refuses their actions with 403', async () => {
    client = await pausedSession();
    const page = await openConsole();
    await logIn(page, await signToken(keys, { claims: { sub: 'alice', scope: 'attach:web-*' } }));
    expect(await page.textContent('#role')).toBe('read-only');
    const targetRow = page.locator('#targets-rows tr', { hasText: target });
    await targetRow.waitFor();
    expect(await targetRow.textContent()).toContain('team=payments');

    await page.click('nav a[data-view=sessions]');
    const sessionRow = page.locator('#sessions-rows tr', { hasText: target });
    await expect.poll(() => sessionRow.textContent(), pageRefresh).toMatch(/relay-secret.*full.*paused for/);
    expect(await page.locator('#sessions-rows button').count()).toBe(0);
    const sessionId = (await sessionRow.locator('td').first().textContent())!;
    // The page's own fetch, with the login's CSRF token: authenticated, but not an admin.
    const status = await page.evaluate(async (id) => {
      const me = (await (await fetch('/console/api/me')).json()) as { csrfToken: string };
      const answer = await fetch(`/console/api/sessions/${id}/end`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Dbgrelay-Csrf': me.csrfToken },
        body: '{}',
      });
      return answer.status;
    }, sessionId);
    expect(status).toBe(403);

    await page.click('nav a[data-view=audit]');
    await page.locator('#audit-rows tr', { hasText: 'session.opened' }).first().waitFor();
    expect(await page.textContent('#audit-rows')).toContain(target);
    expect(client.isConnectionClosed).toBe(false);
  });

  it('lets an administrator resume the paused program, then end the session while it is paused, and the program runs on', async () => {
    const session = client!;
    const page = await openConsole();
    await logIn(page, relay.secret);
    expect(await page.textContent('#role')).toBe('admin');
    await page.locator('#targets-rows tr', { hasText: target }).waitFor();
    await screenshot(page, 'targets');

    await page.click('nav a[data-view=sessions]');
    const sessionRow = page.locator('#sessions-rows tr', { hasText: target });
    await expect.poll(() => sessionRow.textContent(), pageRefresh).toContain('paused for');
    await screenshot(page, 'sessions');

    // Resume: the program prints its next tick, and stops at the breakpoint again on the next request.
    let from = debuggee.outputLength();
    await sessionRow.getByRole('button', { name: 'Resume' }).click();
    await debuggee.waitForOutput(/tick \d+/, 10_000, from);
    await session.waitForEvent('continued');
    await waitForStop(session, 'breakpoint');
    expect(auditEvents('session.resumed')).toEqual([expect.objectContaining({ principal: 'relay-secret', holder: 'relay-secret', target })]);

    // Take over: the console shows the command that does it (an admin attach with --takeover).
    await sessionRow.getByRole('button', { name: 'Take over' }).click();
    expect(await page.textContent('#takeover-hint')).toContain(`dbgrelay attach --takeover ${target}`);

    // End while paused: the debugger detaches (breakpoints gone), the program keeps ticking.
    await expect.poll(() => sessionRow.textContent(), pageRefresh).toContain('paused for');
    from = debuggee.outputLength();
    await sessionRow.getByRole('button', { name: 'End session' }).click();
    await debuggee.waitForOutput(/tick \d+[\s\S]*tick \d+[\s\S]*tick \d+/, 10_000, from);
    await expect.poll(() => session.isConnectionClosed).toBe(true);
    await page.locator('#sessions-rows td.empty').waitFor();
    expect(await page.textContent('#message')).toContain('program keeps running');
    expect(auditEvents('session.ended')).toEqual([expect.objectContaining({ principal: 'relay-secret', holder: 'relay-secret', target, session: expect.any(String) })]);

    await page.click('nav a[data-view=audit]');
    await page.fill('#audit-form input[name=target]', target);
    await page.click('#audit-form button[type=submit]');
    await page.locator('#audit-rows tr', { hasText: 'session.ended' }).waitFor();
    // filtered by target: the logins (no target) are not listed
    await expect.poll(() => page.locator('#audit-rows tr', { hasText: 'console.login' }).count()).toBe(0);
    await screenshot(page, 'audit');
  });

  it("follows the targets list's pages, and sends one action per session however often it is clicked (the page against scripted API answers)", async () => {
    const context = await relayBrowserContext(browser);
    contexts.push(context);
    const now = Date.now();
    const fakeTarget = (name: string) => ({ name, kind: 'agent', host: 'h', labels: {}, sessions: 0, connectedAt: new Date(now).toISOString() });
    await context.route('**/console/api/me', (route) => route.fulfill({ json: { principal: 'relay-secret', method: 'secret', admin: true, csrfToken: 't' } }));
    await context.route('**/console/api/targets*', (route) => {
      const second = new URL(route.request().url()).searchParams.get('after') === 'page-1-last';
      const targets = second ? [fakeTarget('page-2-only')] : [fakeTarget('page-1-first'), fakeTarget('page-1-last')];
      return route.fulfill({ json: { targets, ...(second ? {} : { next: 'page-1-last' }), now } });
    });
    const session = { id: 'abc123', principal: 'jwt:bob', target: 'web-1', state: 'running', policy: 'full', openedAt: now, pausedSince: now };
    await context.route('**/console/api/sessions', (route) => route.fulfill({ json: { sessions: [session], now } }));
    const resumes: string[] = [];
    let answerResume: () => void = () => undefined;
    await context.route('**/console/api/sessions/*/resume', (route) => {
      resumes.push(route.request().url());
      answerResume = () => void route.fulfill({ status: 502, json: { error: { code: 'AGENT_GONE', message: 'the debugger did not resume the program' } } });
    });
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await page.locator('#targets-rows tr', { hasText: 'page-2-only' }).waitFor();
    expect(await page.locator('#targets-rows tr').count()).toBe(3);
    expect(await page.isVisible('#targets-more')).toBe(false);

    await page.click('nav a[data-view=sessions]');
    const resume = page.locator('#sessions-rows tr', { hasText: 'web-1' }).getByRole('button', { name: 'Resume' });
    await resume.click();
    await expect.poll(() => resumes.length).toBe(1);
    await resume.click({ force: true }).catch(() => undefined); // disabled while the first waits
    expect(resumes).toHaveLength(1);
    answerResume();
    // The relay's refusal is what the page says, not "Resumed".
    await expect.poll(() => page.textContent('#message')).toContain('did not resume');
  });
});
