import { describe, expect, it } from 'vitest';
import type { DapInterceptContext } from '../../../src/dap/dapPipe.js';
import { InterceptorChain } from '../../../src/dap/interceptorChain.js';
import type { DapMessage } from '../../../src/dap/dapMessage.js';

const context: DapInterceptContext = {
  direction: 'toAdapter',
  nextSeq: () => 1,
  send: () => undefined,
  sendBody: () => undefined,
  refuse: () => null,
  sendToClient: () => undefined,
  sendToAdapter: () => undefined,
};
const evaluate: DapMessage = { type: 'request', seq: 1, command: 'evaluate', arguments: { expression: 'x' } };

describe('InterceptorChain', () => {
  it('forwards untouched when every handler passes', () => {
    const seen: string[] = [];
    const built = new InterceptorChain()
      .add('toAdapter', 'evaluate', () => void seen.push('a'))
      .add('toAdapter', ['evaluate', 'threads'], () => void seen.push('b'))
      .build();
    expect(built.toAdapter!.get('evaluate')!(evaluate, context)).toBeUndefined();
    expect(seen).toEqual(['a', 'b']);
    expect([...built.toAdapter!.keys()].sort()).toEqual(['evaluate', 'threads']);
    expect(built.toClient!.size).toBe(0);
  });

  it('passes a replacement on and stops at a drop', () => {
    const seen: unknown[] = [];
    const built = new InterceptorChain()
      .add('toAdapter', 'evaluate', (m) => ({ ...m, seq: 99 }))
      .add('toAdapter', 'evaluate', (m) => void seen.push(m.seq))
      .build();
    expect(built.toAdapter!.get('evaluate')!(evaluate, context)).toMatchObject({ seq: 99 });
    expect(seen).toEqual([99]);
    const dropping = new InterceptorChain()
      .add('toAdapter', 'evaluate', () => null)
      .add('toAdapter', 'evaluate', () => void seen.push('never'))
      .build();
    expect(dropping.toAdapter!.get('evaluate')!(evaluate, context)).toBeNull();
    expect(seen).toEqual([99]);
  });
});
