import { describe, expect, it } from 'vitest';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';
import { parseProxyEntry, trustedProxyList } from '../../../src/config/frontEndConfigSchema.js';
import { loadConfig } from '../../../src/config/loadConfig.js';

const env = configTestEnv;

describe('front-end configuration', () => {
  it('defaults: TLS on the wss listener, no trusted proxies, /ptvsd on without a default target', () => {
    const config = loadConfig({ env });
    expect(config.listeners.wss.tls).toBe(true);
    expect(config.frontEnd).toEqual({ trustedProxies: [] });
    expect(config.ptvsd).toEqual({ enabled: true });
  });

  it('allows a plain-HTTP wss listener on loopback, from the file keys or the environment', () => {
    const config = loadConfig({
      env: { ...env, DBGRELAY_WSS_TLS: 'false', DBGRELAY_PTVSD_DEFAULT_TARGET: 'web-1' },
      overrides: { listeners: { wss: { host: '::1' } }, frontEnd: { trustedProxies: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'] } },
    });
    expect(config.listeners.wss.tls).toBe(false);
    expect(config.ptvsd.defaultTarget).toBe('web-1');
    expect(config.frontEnd.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  });

  it('refuses plain HTTP on a non-loopback address, naming the key', () => {
    const message = configErrorOf(() => loadConfig({ env, overrides: { listeners: { wss: { tls: false, host: '0.0.0.0' } } } }));
    expect(message).toContain('listeners.wss.tls: false is only allowed when listeners.wss.host is a loopback address');
  });

  it('refuses client certificates without TLS', () => {
    const message = configErrorOf(() =>
      loadConfig({ env, overrides: { listeners: { wss: { tls: false, clientCertificates: 'required' } }, tls: { clientCaFile: '/etc/ca.pem' } } }),
    );
    expect(message).toContain('listeners.wss.clientCertificates: must be off when listeners.wss.tls is false');
  });

  it('names the bad entry of frontEnd.trustedProxies and a bad ptvsd.defaultTarget', () => {
    expect(configErrorOf(() => loadConfig({ env, overrides: { frontEnd: { trustedProxies: ['127.0.0.1', 'proxy.example'] } } }))).toContain(
      'frontEnd.trustedProxies.1: expected an IP address or a CIDR block',
    );
    expect(configErrorOf(() => loadConfig({ env, overrides: { ptvsd: { defaultTarget: '../etc' } } }))).toContain('ptvsd.defaultTarget: expected a target name');
    expect(configErrorOf(() => loadConfig({ env: { ...env, DBGRELAY_WSS_TLS: 'maybe' } }))).toContain(
      'listeners.wss.tls: expected true or false, given "maybe" (from DBGRELAY_WSS_TLS)',
    );
  });
});

describe('trusted proxy entries', () => {
  it.each(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '0.0.0.0/0'])('accepts %s', (entry) => {
    expect(parseProxyEntry(entry)).toBeDefined();
  });

  it.each(['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x', ''])('refuses %s', (entry) => {
    expect(parseProxyEntry(entry)).toBeUndefined();
  });

  it('matches addresses inside the listed blocks only', () => {
    const list = trustedProxyList(['10.1.0.0/16', '127.0.0.1', 'fd00::/8']);
    expect(list.check('10.1.200.3', 'ipv4')).toBe(true);
    expect(list.check('10.2.0.1', 'ipv4')).toBe(false);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(list.check('127.0.0.2', 'ipv4')).toBe(false);
    expect(list.check('fd12::1', 'ipv6')).toBe(true);
  });
});
