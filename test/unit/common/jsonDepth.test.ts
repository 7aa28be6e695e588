import { describe, expect, it } from 'vitest';
import { jsonNestingDepth, maxJsonDepth, parseBoundedJson } from '../../../src/common/jsonDepth.js';

const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

describe('jsonNestingDepth', () => {
  it('counts arrays and objects, not scalars', () => {
    expect(jsonNestingDepth('1')).toBe(0);
    expect(jsonNestingDepth('{"a":[1,{"b":{}}]}')).toBe(4);
    expect(jsonNestingDepth(Buffer.from('[[],[[]]]'))).toBe(3);
  });

  it('ignores brackets inside strings and honours escapes', () => {
    expect(jsonNestingDepth('{"a":"[[[[{{{{"}')).toBe(1);
    expect(jsonNestingDepth('{"a":"\\"[[[[","b":"\\\\"}')).toBe(1); // an escaped quote does not end the string
    expect(jsonNestingDepth('["\\\\",[[]]]')).toBe(3); // an escaped backslash does
  });

  it('accepts exactly the limit and stops one past it', () => {
    expect(jsonNestingDepth(nested(5), 5)).toBe(5);
    expect(jsonNestingDepth(nested(6), 5)).toBe(6);
    expect(jsonNestingDepth(nested(100_000), 5)).toBe(6);
  });
});

describe('parseBoundedJson', () => {
  it(`parses text nested up to ${maxJsonDepth} levels`, () => {
    expect(parseBoundedJson(nested(maxJsonDepth), 'x')).toBeInstanceOf(Array);
  });

  it('refuses deeper text with BAD_REQUEST before parsing, and never quotes it', () => {
    const deep = '{"secret":"hunter2","a":' + nested(8000) + '}';
    expect(() => parseBoundedJson(deep, 'DAP message body')).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', message: `DAP message body nests deeper than ${maxJsonDepth} levels` }),
    );
    expect(() => parseBoundedJson(nested(maxJsonDepth + 1), 'x')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('refuses text that is not JSON with BAD_REQUEST', () => {
    expect(() => parseBoundedJson('{"a":', 'hello line')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: 'hello line is not valid JSON' }));
  });

  it('applies the bound it is given and tells its onRefused of depth refusals only', () => {
    const refused: string[] = [];
    const bound = { maxDepth: 3, onRefused: () => refused.push('deep') };
    expect(parseBoundedJson(nested(3), 'x', bound)).toEqual([[[]]]);
    expect(() => parseBoundedJson(nested(4), 'control message', bound)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', message: 'control message nests deeper than 3 levels' }),
    );
    expect(() => parseBoundedJson('[[', 'x', bound)).toThrow(expect.objectContaining({ message: 'x is not valid JSON' }));
    expect(refused).toEqual(['deep']);
  });
});
