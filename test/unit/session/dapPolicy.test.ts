import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import { policedCommands, policyRefusal, stricterPolicy } from '../../../src/session/dapPolicy.js';
import type { PolicyName } from '../../../src/config/guardrailsConfigSchema.js';
import { resolvePolicy } from '../../../src/session/policyResolver.js';

const req = (command: string, args?: unknown): DebugProtocol.Request => ({ type: 'request', seq: 1, command, ...(args !== undefined ? { arguments: args } : {}) });
const src = { source: { path: '/app.py' } };

/** Each case: request, and whether full / no-eval / logpoints-only allow it. */
const cases: Array<[string, DebugProtocol.Request, [boolean, boolean, boolean]]> = [
  ['evaluate', req('evaluate', { expression: 'x' }), [true, false, false]],
  ['setVariable', req('setVariable', { variablesReference: 1, name: 'x', value: '1' }), [true, false, false]],
  ['setExpression', req('setExpression', { expression: 'x', value: '1' }), [true, false, false]],
  ['completions', req('completions', { text: 'o', column: 1 }), [true, false, false]],
  ['plain breakpoint', req('setBreakpoints', { ...src, breakpoints: [{ line: 3 }] }), [true, true, false]],
  ['conditional breakpoint', req('setBreakpoints', { ...src, breakpoints: [{ line: 3, condition: 'x > 1' }] }), [true, false, false]],
  ['hit-count breakpoint', req('setBreakpoints', { ...src, breakpoints: [{ line: 3, hitCondition: '5' }] }), [true, false, false]],
  ['logpoint', req('setBreakpoints', { ...src, breakpoints: [{ line: 3, logMessage: 'x={x}' }] }), [true, true, true]],
  ['clearing breakpoints', req('setBreakpoints', { ...src, breakpoints: [] }), [true, true, true]],
  ['function breakpoint', req('setFunctionBreakpoints', { breakpoints: [{ name: 'f' }] }), [true, true, false]],
  ['exception breakpoints', req('setExceptionBreakpoints', { filters: ['uncaught'] }), [true, true, false]],
  ['no exception breakpoints', req('setExceptionBreakpoints', { filters: [] }), [true, true, true]],
  ['exception condition', req('setExceptionBreakpoints', { filters: [], filterOptions: [{ filterId: 'raised', condition: 'x' }] }), [true, false, false]],
  ['pause', req('pause', { threadId: 1 }), [true, true, false]],
  ['next', req('next', { threadId: 1 }), [true, true, false]],
  ['stepIn', req('stepIn', { threadId: 1 }), [true, true, false]],
  ['continue', req('continue', { threadId: 1 }), [true, true, true]],
  ['stackTrace', req('stackTrace', { threadId: 1 }), [true, true, true]],
  ['variables', req('variables', { variablesReference: 1 }), [true, true, true]],
  ['disconnect', req('disconnect', { terminateDebuggee: false }), [true, true, true]],
  ['disconnect terminating', req('disconnect', { terminateDebuggee: true }), [true, true, false]],
  ['terminate', req('terminate'), [true, true, false]],
];

describe('policyRefusal', () => {
  it.each(cases)('%s', (_label, request, allowed) => {
    const policies: PolicyName[] = ['full', 'no-eval', 'logpoints-only'];
    expect(policies.map((policy) => policyRefusal(policy, request) === undefined)).toEqual(allowed);
  });

  it('names what it refused', () => {
    expect(policyRefusal('no-eval', req('evaluate', { expression: 'x' }))).toBe('evaluate runs code in the debuggee');
    expect(policyRefusal('logpoints-only', req('pause', { threadId: 1 }))).toBe('pause can stop the process');
  });

  it('is not fooled by inherited property names', () => {
    expect(policyRefusal('logpoints-only', req('constructor'))).toBeUndefined();
    expect(policyRefusal('logpoints-only', req('__proto__'))).toBeUndefined();
  });

  it('intercepts only the commands it may refuse', () => {
    expect(policedCommands).toContain('evaluate');
    expect(policedCommands).toContain('pause');
    expect(policedCommands).not.toContain('stackTrace');
    expect(policedCommands).not.toContain('variables');
  });

  it('orders policies', () => {
    expect(stricterPolicy('full', 'no-eval')).toBe('no-eval');
    expect(stricterPolicy('logpoints-only', 'no-eval')).toBe('logpoints-only');
    expect(stricterPolicy('full', 'full')).toBe('full');
  });
});

describe('resolvePolicy', () => {
  const config = {
    default: 'full' as const,
    targets: { 'prod-*': 'logpoints-only' as const, 'staging-*': 'no-eval' as const },
    principals: { 'jwt:intern-*': 'no-eval' as const, 'jwt:oncall': 'full' as const },
  };

  it('uses the default when nothing matches', () => {
    expect(resolvePolicy(config, 'jwt:alice', 'dev-1')).toEqual({ policy: 'full', because: ['default'] });
  });

  it('takes the stricter of target and principal rules', () => {
    expect(resolvePolicy(config, 'jwt:intern-bob', 'dev-1').policy).toBe('no-eval');
    expect(resolvePolicy(config, 'jwt:intern-bob', 'prod-1').policy).toBe('logpoints-only');
    expect(resolvePolicy(config, 'jwt:oncall', 'prod-1').policy).toBe('logpoints-only');
    expect(resolvePolicy(config, 'jwt:oncall', 'staging-1')).toEqual({
      policy: 'no-eval',
      because: ['targets["staging-*"]=no-eval', 'principals["jwt:oncall"]=full'],
    });
  });

  it('lets a principal rule loosen the default but never a target rule', () => {
    const strict = { ...config, default: 'logpoints-only' as const };
    expect(resolvePolicy(strict, 'jwt:oncall', 'dev-1').policy).toBe('full');
    expect(resolvePolicy(strict, 'jwt:alice', 'dev-1').policy).toBe('logpoints-only');
  });
});
