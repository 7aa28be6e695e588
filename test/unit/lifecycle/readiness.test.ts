import { describe, expect, it } from 'vitest';
import { Readiness } from '../../../src/lifecycle/readiness.js';

describe('Readiness', () => {
  it('is ready only while listening, not draining and not closed', () => {
    const readiness = new Readiness();
    expect(readiness.notReadyReason).toBe('starting');
    readiness.markListening();
    expect(readiness.ready).toBe(true);
    readiness.setDraining();
    expect(readiness.notReadyReason).toBe('draining');
    readiness.setDraining(false);
    expect(readiness.ready).toBe(true);
    readiness.markClosed();
    readiness.setDraining(false);
    expect(readiness.notReadyReason).toBe('closed');
  });
});
