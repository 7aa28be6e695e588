import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { parseRelayEndpoint, redactRelayUrl } from '../../../src/dial/relayEndpoint.js';

function refusal(url: string): Error {
  try {
    parseRelayEndpoint(url);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${url} was accepted`);
}

describe('parseRelayEndpoint', () => {
  it.each([
    ['wss://relay.example.com', { scheme: 'wss', host: 'relay.example.com', port: 7443, basePath: '', display: 'wss://relay.example.com:7443' }],
    ['tcps://relay.example.com', { scheme: 'tcps', host: 'relay.example.com', port: 7444, basePath: '', display: 'tcps://relay.example.com:7444' }],
    ['wss://127.0.0.1:9000/', { scheme: 'wss', host: '127.0.0.1', port: 9000, basePath: '', display: 'wss://127.0.0.1:9000' }],
    ['wss://Relay.Example.COM:443/dbg/relay/', { host: 'relay.example.com', port: 443, basePath: '/dbg/relay', display: 'wss://relay.example.com:443/dbg/relay' }],
    ['WSS://[::1]:8443/base', { scheme: 'wss', host: '::1', port: 8443, basePath: '/base', display: 'wss://[::1]:8443/base' }],
    ['tcps://[2001:db8::1]', { host: '2001:db8::1', port: 7444, display: 'tcps://[2001:db8::1]:7444' }],
    ['  tcps://localhost:1  ', { host: 'localhost', port: 1 }],
  ])('accepts %s', (url, expected) => {
    const endpoint = parseRelayEndpoint(url);
    expect(endpoint).toMatchObject(expected);
    expect(endpoint.secret).toBeUndefined();
  });

  it('takes a secret@ user part as the credential and never shows it', () => {
    const endpoint = parseRelayEndpoint('wss://s3cr%2Ft-x@site.example.net/ptvsd');
    expect(endpoint.secret).toBe('s3cr/t-x');
    expect(endpoint.display).toBe('wss://site.example.net:7443/ptvsd');
    expect(JSON.stringify({ ...endpoint, secret: undefined })).not.toContain('s3cr');
    expect(parseRelayEndpoint('tcps://tok:@h:5').secret).toBe('tok');
  });

  it('percent-decodes the user part as UTF-8 (RFC 3986) and accepts sub-delims as they are', () => {
    expect(parseRelayEndpoint('tcps://a%40b%3Ac%20d@relay:7444').secret).toBe('a@b:c d');
    expect(parseRelayEndpoint('wss://caf%C3%A9@relay:443/ptvsd').secret).toBe('café');
    expect(parseRelayEndpoint("tcps://A-z_0.9~!$&'()*+,;=@relay").secret).toBe("A-z_0.9~!$&'()*+,;=");
    const endpoint = parseRelayEndpoint('wss://Zm9v-YmFy_@[::1]:8443');
    expect(endpoint).toMatchObject({ scheme: 'wss', host: '::1', port: 8443, secret: 'Zm9v-YmFy_', display: 'wss://[::1]:8443' });
  });

  it.each([
    ['wss://a b@relay', /must be percent-encoded/],
    ['tcps://s%zz@relay', /must be percent-encoded/],
    ['tcps://s%FF@relay', /not valid percent-encoding/],
    ['wss://s"x@relay', /must be percent-encoded/],
  ])('refuses the user part of %s', (url, message) => {
    const error = refusal(url);
    expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/a b|s%|s"/);
  });

  it.each([
    ['http://relay:80', /scheme "http" is not supported/],
    ['ws://relay:80', /scheme "ws" is not supported/],
    ['relay:7443', /expected wss:\/\/host/],
    ['wss://relay/v1?secret=abc', /query string or fragment/],
    ['wss://relay/#frag', /query string or fragment/],
    ['wss://:7443', /host is missing/],
    ['wss://relay:0', /port must be/],
    ['wss://relay:65536', /port must be/],
    ['wss://relay:12ab', /port must be/],
    ['wss://[zz::1]:7443', /not an IPv6 address/],
    ['wss://rel_ay:7443', /not a valid name/],
    ['tcps://relay:7444/path', /tcps:\/\/ URL has no path/],
    ['wss://relay/a b', /path contains/],
    ['wss://@relay', /user part is empty/],
  ])('refuses %s', (url, message) => {
    const error = refusal(url);
    expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('never echoes a secret in a refusal', () => {
    for (const url of ['wss://topsecret@relay/x?y=1', 'wss://topsecret:pw@relay', 'http://topsecret@relay', 'wss://topsecret@relay:99999']) {
      const error = refusal(url);
      expect(error.message).not.toContain('topsecret');
      expect(error.message).toContain('***@');
    }
  });

  it('redacts the user part of any URL-like string', () => {
    expect(redactRelayUrl('wss://a:b@h/p')).toBe('wss://***@h/p');
    expect(redactRelayUrl('wss://h/p@x')).toBe('wss://h/p@x');
  });
});
