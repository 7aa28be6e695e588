import { describe, expect, it } from 'vitest';
import { isUpgradeOnlyPath, parseUpgradeRoute, requireWebSocketHandshake, takeoverRequested } from '../../../src/listeners/upgradeRoutes.js';

const codeOf = (path: string): string | undefined => {
  try {
    parseUpgradeRoute(path);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('parseUpgradeRoute', () => {
  it('maps the v1 endpoints', () => {
    expect(parseUpgradeRoute('/v1/agent')).toEqual({ kind: 'agent' });
    expect(parseUpgradeRoute('/v1/agent/sessions/Qm9vdHN0cmFwLXNlc3Npb24taWQtMDAwMDAwMDE')).toEqual({
      kind: 'agentData',
      sessionId: 'Qm9vdHN0cmFwLXNlc3Npb24taWQtMDAwMDAwMDE',
    });
    expect(parseUpgradeRoute('/v1/attach/web-1')).toEqual({ kind: 'attach', target: 'web-1' });
    expect(parseUpgradeRoute('/v1/attach/web%2D1')).toEqual({ kind: 'attach', target: 'web-1' });
    // a group member, its slash encoded (as the client sends it) or not
    expect(parseUpgradeRoute('/v1/attach/web-1%2F12345')).toEqual({ kind: 'attach', target: 'web-1/12345' });
    expect(parseUpgradeRoute('/v1/attach/web-1/12345')).toEqual({ kind: 'attach', target: 'web-1/12345' });
  });

  it('refuses other paths', () => {
    expect(codeOf('/v2/agent')).toBe('NOT_FOUND');
    expect(codeOf('/v1/attach/')).toBe('NOT_FOUND');
    expect(codeOf('/v1/attach/a/b/c')).toBe('NOT_FOUND');
    expect(codeOf('/v1/attach/a/')).toBe('NOT_FOUND');
    expect(codeOf('/ptvsd')).toBe('NOT_FOUND');
    expect(codeOf('/v1/agent/sessions/short')).toBe('UNKNOWN_SESSION');
    expect(codeOf('/v1/attach/%E0%A4%A')).toBe('BAD_REQUEST');
  });

  it('knows which paths need an upgrade', () => {
    expect(isUpgradeOnlyPath('/v1/attach/web-1')).toBe(true);
    expect(isUpgradeOnlyPath('/v1/attach/web-1/12345')).toBe(true);
    expect(isUpgradeOnlyPath('/v1/targets')).toBe(false);
  });
});

describe('requireWebSocketHandshake', () => {
  const valid = { method: 'GET', headers: { upgrade: 'WebSocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } };
  const codeFor = (request: Parameters<typeof requireWebSocketHandshake>[0]): string | undefined => {
    try {
      requireWebSocketHandshake(request);
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };

  it('accepts an RFC 6455 opening handshake', () => {
    expect(codeFor(valid)).toBeUndefined();
    expect(codeFor({ ...valid, headers: { ...valid.headers, 'sec-websocket-version': '8' } })).toBeUndefined();
  });

  it('refuses what ws would not upgrade, with BAD_REQUEST', () => {
    expect(codeFor({ ...valid, method: 'POST' })).toBe('BAD_REQUEST');
    expect(codeFor({ ...valid, headers: { ...valid.headers, upgrade: 'h2c' } })).toBe('BAD_REQUEST');
    expect(codeFor({ ...valid, headers: { ...valid.headers, 'sec-websocket-key': 'short' } })).toBe('BAD_REQUEST');
    expect(codeFor({ ...valid, headers: { upgrade: 'websocket', 'sec-websocket-version': '13' } })).toBe('BAD_REQUEST');
    expect(codeFor({ ...valid, headers: { ...valid.headers, 'sec-websocket-version': '12' } })).toBe('BAD_REQUEST');
  });
});

describe('takeoverRequested', () => {
  it('reads X-Dbgrelay-Takeover: 1/true as a takeover, 0/false or no header as none', () => {
    expect(takeoverRequested({})).toBe(false);
    expect(takeoverRequested({ 'x-dbgrelay-takeover': '1' })).toBe(true);
    expect(takeoverRequested({ 'x-dbgrelay-takeover': ' TRUE ' })).toBe(true);
    expect(takeoverRequested({ 'x-dbgrelay-takeover': '0' })).toBe(false);
    expect(takeoverRequested({ 'x-dbgrelay-takeover': 'false' })).toBe(false);
  });

  it.each(['yes', '', '2', 'on'])('refuses the value %j with BAD_REQUEST', (value) => {
    expect(() => takeoverRequested({ 'x-dbgrelay-takeover': value })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
