import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { trustedProxyList } from '../../../src/config/frontEndConfigSchema.js';
import { clientOrigin, originFields, parseForwardedElement, refuseCleartextOrigin } from '../../../src/listeners/forwardedClient.js';

const trusted = trustedProxyList(['127.0.0.1', '10.0.0.0/8']);
const fromProxy = { remoteAddress: '127.0.0.1', remotePort: 40000 };

describe('clientOrigin', () => {
  it('ignores X-Forwarded-For and X-Forwarded-Proto from a peer that is not a trusted proxy', () => {
    const origin = clientOrigin({ remoteAddress: '198.51.100.7', remotePort: 5555 }, { 'x-forwarded-for': '203.0.113.1', 'x-forwarded-proto': 'http' }, trusted);
    expect(origin).toEqual({ ip: '198.51.100.7', display: '198.51.100.7:5555' });
  });

  it('takes the first untrusted hop from the right, behind a trusted proxy', () => {
    const origin = clientOrigin(fromProxy, { 'x-forwarded-for': '203.0.113.66, 198.51.100.7, 10.1.2.3', 'x-forwarded-proto': 'HTTPS' }, trusted);
    expect(origin).toEqual({ ip: '198.51.100.7', display: '198.51.100.7', proxy: '127.0.0.1:40000', forwardedProto: 'https' });
  });

  it('joins repeated headers, keeps the forwarded port (Azure style) and unmaps IPv4-mapped peers', () => {
    const origin = clientOrigin({ remoteAddress: '::ffff:127.0.0.1', remotePort: 1 }, { 'x-forwarded-for': ['203.0.113.1', '198.51.100.7:61000'] as unknown as string }, trusted);
    expect(origin.display).toBe('198.51.100.7:61000');
    expect(origin.proxy).toBe('127.0.0.1:1');
  });

  it('stops at an element that is not an address, at the last trusted hop', () => {
    expect(clientOrigin(fromProxy, { 'x-forwarded-for': 'unknown, 10.0.0.9' }, trusted).ip).toBe('10.0.0.9');
    expect(clientOrigin(fromProxy, { 'x-forwarded-for': '198.51.100.7, garbage' }, trusted)).toEqual({ ip: '127.0.0.1', display: '127.0.0.1:40000' });
  });

  it('uses the leftmost hop when every hop is trusted, and the peer when there is no header', () => {
    expect(clientOrigin(fromProxy, { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' }, trusted).ip).toBe('10.0.0.1');
    expect(clientOrigin(fromProxy, {}, trusted)).toEqual({ ip: '127.0.0.1', display: '127.0.0.1:40000' });
  });

  it('gives authentication the forwarded address to count failures under', () => {
    expect(originFields(clientOrigin(fromProxy, { 'x-forwarded-for': '2001:db8::5' }, trusted))).toEqual({
      remote: '[2001:db8::5]',
      proxy: '127.0.0.1:40000',
      clientIp: '2001:db8::5',
    });
    expect(originFields(clientOrigin({ remoteAddress: '198.51.100.7', remotePort: 9 }, {}, trusted))).toEqual({ remote: '198.51.100.7:9' });
  });
});

describe('parseForwardedElement', () => {
  it.each([
    ['203.0.113.1', { ip: '203.0.113.1' }],
    ['"203.0.113.1:443"', { ip: '203.0.113.1', port: 443 }],
    ['[2001:db8::1]:8080', { ip: '2001:db8::1', port: 8080 }],
    ['2001:db8::1', { ip: '2001:db8::1' }],
    ['unknown', undefined],
    ['_hidden', undefined],
    ['300.1.1.1', undefined],
  ])('%s', (element, expected) => {
    expect(parseForwardedElement(element)).toEqual(expected);
  });
});

describe('refuseCleartextOrigin', () => {
  it('refuses what a trusted front end received over http, accepts https and no header', () => {
    expect(() => refuseCleartextOrigin({ ip: '1.2.3.4', display: '1.2.3.4', forwardedProto: 'http' })).toThrow(/only over TLS/);
    let refusal: unknown;
    try {
      refuseCleartextOrigin({ ip: '1.2.3.4', display: '1.2.3.4', forwardedProto: 'ws' });
    } catch (error) {
      refusal = error;
    }
    expect(isRelayError(refusal, 'BAD_REQUEST')).toBe(true);
    expect(() => refuseCleartextOrigin({ ip: '1.2.3.4', display: '1.2.3.4', forwardedProto: 'https' })).not.toThrow();
    expect(() => refuseCleartextOrigin({ ip: '1.2.3.4', display: '1.2.3.4' })).not.toThrow();
  });
});
