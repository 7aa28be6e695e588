import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { openConnectTunnel, parseProxyUrl, proxyForRelay } from '../../../src/dial/httpsProxy.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A one-shot proxy that records the request head and answers with `reply`, then echoes. */
async function fakeProxy(reply: string): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const server = createServer((socket) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      heads.push(head);
      socket.write(reply);
      socket.pipe(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, heads };
}

describe('proxyForRelay', () => {
  it('reads https_proxy before HTTPS_PROXY, and no_proxy before NO_PROXY', () => {
    expect(proxyForRelay('relay.example', 443, { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' })?.display).toBe('http://lower:3128');
    expect(proxyForRelay('relay.example', 443, { HTTPS_PROXY: 'upper:3128' })).toMatchObject({ display: 'http://upper:3128', source: 'HTTPS_PROXY' });
    expect(proxyForRelay('relay.example', 443, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'relay.example', no_proxy: 'other' })).toBeDefined();
    expect(proxyForRelay('relay.example', 443, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'relay.example' })).toBeUndefined();
    expect(proxyForRelay('relay.example', 443, { HTTP_PROXY: 'http://p:3128', ALL_PROXY: 'http://p:3128' })).toBeUndefined();
    expect(proxyForRelay('127.0.0.1', 7443, { HTTPS_PROXY: 'http://p:3128' })).toBeDefined(); // loopback is not exempt by itself
  });

  it('parses credentials into Proxy-Authorization, never into what it shows', () => {
    const proxy = parseProxyUrl('http://us%40er:p%3Ass@proxy.corp:8080/', 'HTTPS_PROXY');
    expect(proxy).toMatchObject({ host: 'proxy.corp', port: 8080, display: 'http://proxy.corp:8080' });
    expect(proxy.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    expect(parseProxyUrl('http://[::1]', 'x')).toMatchObject({ host: '::1', port: 80, display: 'http://[::1]:80' });
  });

  it.each([
    ['https://proxy:3128', 'proxy scheme https:// is not supported'],
    ['socks5://proxy:1080', 'proxy scheme socks5:// is not supported'],
    ['http://pro xy', 'not a valid proxy URL'],
  ])('refuses %s with CONFIG_INVALID naming the variable, not the URL', (url, message) => {
    try {
      parseProxyUrl(url, 'HTTPS_PROXY');
      throw new Error('expected a refusal');
    } catch (error) {
      expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain(`HTTPS_PROXY: ${message}`);
    }
  });
});

describe('openConnectTunnel', () => {
  it('sends CONNECT with the proxy credentials and hands back the tunnel', async () => {
    const proxy = await fakeProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
    const socket = await openConnectTunnel(parseProxyUrl(`http://u:p@127.0.0.1:${proxy.port}`, 'HTTPS_PROXY'), 'relay.example', 7443, 5000);
    expect(proxy.heads[0]).toBe(`CONNECT relay.example:7443 HTTP/1.1\r\nHost: relay.example:7443\r\nProxy-Authorization: Basic ${Buffer.from('u:p').toString('base64')}\r\n\r\n`);
    socket.resume();
    const echoed = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.write('ping');
    expect(await echoed).toBe('ping');
    socket.destroy();
  });

  it('brackets an IPv6 relay address in the CONNECT line', async () => {
    const proxy = await fakeProxy('HTTP/1.0 200 OK\r\n\r\n');
    (await openConnectTunnel(parseProxyUrl(`127.0.0.1:${proxy.port}`, 'HTTPS_PROXY'), '::1', 7444, 5000)).destroy();
    expect(proxy.heads[0]).toMatch(/^CONNECT \[::1\]:7444 HTTP\/1\.1\r\nHost: \[::1\]:7444\r\n\r\n$/);
  });

  it('rejects with RELAY_UNREACHABLE naming the proxy and its status, never its credentials', async () => {
    const proxy = await fakeProxy('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const error = await openConnectTunnel(parseProxyUrl(`http://user:hunter2@127.0.0.1:${proxy.port}`, 'https_proxy'), 'relay.example', 443, 5000).catch((e: unknown) => e);
    expect(isRelayError(error, 'RELAY_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toBe(
      `the proxy http://127.0.0.1:${proxy.port} (https_proxy) refused CONNECT relay.example:443: HTTP/1.1 407 Proxy Authentication Required (the proxy refused its credentials)`,
    );
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('rejects when nothing listens at the proxy address', async () => {
    const closed = await fakeProxy('');
    const port = closed.port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await openConnectTunnel(parseProxyUrl(`127.0.0.1:${port}`, 'HTTPS_PROXY'), 'relay.example', 443, 5000).catch((e: unknown) => e);
    expect(isRelayError(error, 'RELAY_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toContain(`cannot reach the proxy http://127.0.0.1:${port} (HTTPS_PROXY)`);
  });
});
