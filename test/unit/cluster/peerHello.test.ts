import { describe, expect, it } from 'vitest';
import { newSessionId, sessionIdIssuer } from '../../../src/agents/sessionId.js';
import { sessionIdPattern } from '../../../src/protocol/controlMessages.js';
import { agentDataHelloLine, forwardAnswerLine, forwardHelloLine, forwardedPrincipal, parseForwardAnswer, parsePeerHello } from '../../../src/cluster/peerHello.js';
import { RelayError, isRelayError } from '../../../src/common/relayError.js';
import type { Principal } from '../../../src/auth/principal.js';

const engineer: Principal = { id: 'jwt:alice', grants: { register: [], attach: ['web-*'], admin: false }, method: 'jwt', expiresAt: 1_900_000_000_000 };

describe('the hello lines between relay instances', () => {
  it('carry the authenticated principal and the request to the holder unchanged', () => {
    const line = forwardHelloLine({ from: 'relay-0', target: 'web-1', principal: engineer, via: 'wss', clientAddress: '10.1.2.3:5555', takeover: false, heartbeatMs: 5_000 });
    expect(line.endsWith('\n')).toBe(true);
    const hello = parsePeerHello(line.trim());
    expect(hello).toMatchObject({ op: 'forward', target: 'web-1', via: 'wss', clientAddress: '10.1.2.3:5555', takeover: false, heartbeatMs: 5_000 });
    expect(forwardedPrincipal(hello)).toEqual(engineer);
    expect(Object.isFrozen(forwardedPrincipal(hello).grants)).toBe(true);
    const data = parsePeerHello(agentDataHelloLine({ from: 'relay-2', sessionId: 'abc', principal: engineer }).trim());
    expect(data).toMatchObject({ op: 'agentData', sessionId: 'abc' });
  });

  it("carry a JWT's fractional expiry rounded down, never later", () => {
    const fractional = { ...engineer, expiresAt: 1_900_000_000_000.75 };
    const hello = parsePeerHello(
      forwardHelloLine({ from: 'relay-0', target: 'web-1', principal: fractional, via: 'tcps', clientAddress: '10.1.2.3:5555', takeover: false }).trim(),
    );
    expect(forwardedPrincipal(hello).expiresAt).toBe(1_900_000_000_000);
  });

  it('refuse anything else with BAD_REQUEST, never quoting it', () => {
    for (const line of ['not json', '{"op":"forward","v":2}', '{"op":"shell","v":1}', JSON.stringify({ op: 'forward', v: 1, secret: 'hunter2hunter2' })]) {
      let error: unknown;
      try {
        parsePeerHello(line);
      } catch (caught) {
        error = caught;
      }
      expect(isRelayError(error, 'BAD_REQUEST')).toBe(true);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it("hand the holder's refusal to the client with its code; an unknown code becomes INTERNAL", () => {
    expect(() => parseForwardAnswer(forwardAnswerLine().trim())).not.toThrow();
    let error: unknown;
    try {
      parseForwardAnswer(forwardAnswerLine(new RelayError('TARGET_BUSY', 'held by bob')).trim());
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'TARGET_BUSY', message: 'held by bob' });
    expect(() => parseForwardAnswer('{"ok":false,"code":"NEW_CODE","message":"m"}')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('session ids of several instances', () => {
  it('name the issuing instance, still match the protocol, and a lone relay issues them as before', () => {
    const id = newSessionId('relay-7.zone_b');
    expect(sessionIdPattern.test(id)).toBe(true);
    expect(sessionIdIssuer(id)).toBe('relay-7.zone_b');
    expect(sessionIdPattern.test(newSessionId('x'.repeat(64)))).toBe(true);
    const alone = newSessionId();
    expect(alone).toHaveLength(32);
    expect(sessionIdIssuer(alone)).toBeUndefined();
    expect(sessionIdIssuer(`${alone}_-_-`)).toBeUndefined(); // not an instance id once decoded
  });
});
