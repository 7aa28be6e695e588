import { readFileSync } from 'node:fs';
import Ajv04Module from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { validateDapRequest } from '../../../src/dap/requestSchema.js';

interface Vector {
  name: string;
  request: unknown;
}
interface InvalidVector extends Vector {
  field: string;
  debugpySafe: boolean;
  bridgeOnly?: boolean;
}

const vectors = JSON.parse(readFileSync(new URL('../../fixtures/dapRequestVectors.json', import.meta.url), 'utf8')) as {
  valid: Vector[];
  invalid: InvalidVector[];
};
const refused = vectors.invalid.filter((v) => !v.bridgeOnly);
const bridgeOnly = vectors.invalid.filter((v) => v.bridgeOnly);

/** The published DAP schema alone, without debugpySafe.json: what `debugpySafe` claims is measured against it. */
function plainDapSchema(): (request: unknown) => boolean {
  const schema = JSON.parse(readFileSync(new URL('../../../src/dap/schema/debugAdapterProtocol.json', import.meta.url), 'utf8')) as {
    definitions: Record<string, unknown>;
  };
  const ajv = new Ajv04Module.default({ strict: false });
  ajv.addSchema(schema, 'dap');
  return (request) => {
    const command = String((request as { command?: unknown }).command ?? '');
    const name = `${command.charAt(0).toUpperCase()}${command.slice(1)}Request`;
    return ajv.getSchema(`dap#/definitions/${name in schema.definitions ? name : 'Request'}`)!(request) === true;
  };
}

describe('validateDapRequest', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('accepts %s', (_name, vector) => {
    expect(validateDapRequest(vector.request)).toBeUndefined();
  });

  it.each(refused.map((v) => [v.name, v] as const))('refuses %s', (_name, vector) => {
    const error = validateDapRequest(vector.request);
    expect(error?.field).toBe(vector.field);
    expect(error?.message).toMatch(/\S/);
  });

  it('needs debugpySafe.json exactly for the vectors marked debugpySafe', () => {
    const accepts = plainDapSchema();
    for (const vector of refused) expect(accepts(vector.request), vector.name).toBe(vector.debugpySafe);
  });

  it('reads an integer written 1.0 as an integer (JSON.parse), leaving it to the bridge', () => {
    expect(bridgeOnly.length).toBeGreaterThan(0);
    for (const vector of bridgeOnly) expect(validateDapRequest(vector.request), vector.name).toBeUndefined();
  });

  it('names what was expected: the type, the allowed values, a required property', () => {
    const request = (args: unknown) => ({ seq: 1, type: 'request', command: 'setExceptionBreakpoints', arguments: args });
    expect(validateDapRequest(request({ filters: 'raised' }))).toEqual({ field: '/arguments/filters', message: 'must be array' });
    expect(validateDapRequest(request({ filters: [], exceptionOptions: [{ path: [], breakMode: 'x' }] }))).toEqual({
      field: '/arguments/exceptionOptions/0/breakMode',
      message: 'must be one of "never", "always", "unhandled", "userUnhandled"',
    });
    expect(validateDapRequest(request({}))).toEqual({ field: '/arguments/filters', message: 'is required' });
  });

  it('checks a command the DAP schema does not define against the generic Request only', () => {
    expect(validateDapRequest({ seq: 1, type: 'request', command: 'debugpyCustom', arguments: [1, 'x'] })).toBeUndefined();
    expect(validateDapRequest({ seq: 1, type: 'request', command: 'toString' })).toBeUndefined();
    expect(validateDapRequest({ seq: 1, type: 'request', command: 'debugpyCustom', arguments: 5 })).toBeUndefined();
    expect(validateDapRequest({ seq: 1, type: 'request', command: 5 })?.field).toBe('/command');
  });

  it('keeps unsafe integers away from debugpy', () => {
    const stackTrace = (threadId: number) => ({ seq: 1, type: 'request', command: 'stackTrace', arguments: { threadId } });
    expect(validateDapRequest(stackTrace(Number.MAX_SAFE_INTEGER))).toBeUndefined();
    expect(validateDapRequest(stackTrace(Number.MAX_SAFE_INTEGER + 1))?.field).toBe('/arguments/threadId');
    expect(validateDapRequest(stackTrace(-Number.MAX_SAFE_INTEGER - 1))?.field).toBe('/arguments/threadId');
    expect(validateDapRequest(stackTrace(1.5))?.message).toBe('must be integer');
  });

  it('points at a missing required argument, not at its parent', () => {
    const error = validateDapRequest({ seq: 1, type: 'request', command: 'next', arguments: {} });
    expect(error).toEqual({ field: '/arguments/threadId', message: 'is required' });
  });
});
