import { describe, expect, it } from 'vitest';
import { httpRefusalError, refusalError } from '../../../src/dial/relayRefusal.js';

describe('relay refusals', () => {
  it.each(['RELAY_DRAINING', 'LIMIT_REACHED'] as const)('keeps the wire code %s (protocol revision 1.5)', (code) => {
    const error = refusalError(code, 'limits.maxAgents reached');
    expect(error.code).toBe(code);
    expect(error.message).toContain('limits.maxAgents reached');
  });

  it('takes an HTTP 503 without a body as a draining relay', () => {
    expect(httpRefusalError(503, 'Service Unavailable', '').code).toBe('RELAY_DRAINING');
  });
});
