import { describe, expect, it } from 'vitest';
import { isUpgradeOnlyPath, parseUpgradeRoute } from '../../../src/relay/upgradeRoutes.js';

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
  });

  it('refuses other paths', () => {
    expect(codeOf('/v2/agent')).toBe('NOT_FOUND');
    expect(codeOf('/v1/attach/')).toBe('NOT_FOUND');
    expect(codeOf('/v1/attach/a/b')).toBe('NOT_FOUND');
    expect(codeOf('/ptvsd')).toBe('NOT_FOUND');
    expect(codeOf('/v1/agent/sessions/short')).toBe('UNKNOWN_SESSION');
    expect(codeOf('/v1/attach/%E0%A4%A')).toBe('BAD_REQUEST');
  });

  it('knows which paths need an upgrade', () => {
    expect(isUpgradeOnlyPath('/v1/attach/web-1')).toBe(true);
    expect(isUpgradeOnlyPath('/v1/targets')).toBe(false);
  });
});
