import { describe, expect, it } from 'vitest';
import { credentialFromAuthorization, pathWithoutQuery } from '../../../src/auth/credentialParser.js';
import { isRelayError } from '../../../src/common/relayError.js';

const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

describe('credentialFromAuthorization', () => {
  it('reads the secret as the Basic user name (wss://<secret>@host form)', () => {
    expect(credentialFromAuthorization(basic('s3cr3t:'))).toEqual({ kind: 'secret', secret: 's3cr3t' });
    expect(credentialFromAuthorization(basic('s3cr3t'))).toEqual({ kind: 'secret', secret: 's3cr3t' });
    expect(credentialFromAuthorization(basic(':s3cr3t'))).toEqual({ kind: 'secret', secret: 's3cr3t' });
    expect(credentialFromAuthorization(`basic   ${Buffer.from('x:').toString('base64')}`)).toEqual({ kind: 'secret', secret: 'x' });
  });

  it('reads a bearer token', () => {
    expect(credentialFromAuthorization('Bearer a.b.c')).toEqual({ kind: 'bearer', token: 'a.b.c' });
  });

  it('treats no header or an empty Basic credential as none', () => {
    expect(credentialFromAuthorization(undefined)).toBeUndefined();
    expect(credentialFromAuthorization('')).toBeUndefined();
    expect(credentialFromAuthorization(basic(':'))).toBeUndefined();
  });

  it.each(['Basic', 'Basic !!!', 'Digest abc', 'Basic a b'])('refuses malformed header %j with AUTH_FAILED', (header) => {
    let caught: unknown;
    try {
      credentialFromAuthorization(header);
    } catch (error) {
      caught = error;
    }
    expect(isRelayError(caught, 'AUTH_FAILED')).toBe(true);
  });
});

describe('pathWithoutQuery', () => {
  it('passes plain paths and refuses any query string', () => {
    expect(pathWithoutQuery('/v1/attach/web-1')).toBe('/v1/attach/web-1');
    let caught: unknown;
    try {
      pathWithoutQuery('/v1/attach/web-1?secret=hunter2');
    } catch (error) {
      caught = error;
    }
    expect(isRelayError(caught, 'BAD_REQUEST')).toBe(true);
    expect((caught as Error).message).not.toContain('hunter2');
  });
});
