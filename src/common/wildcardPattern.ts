/** A compiled glob-like pattern (see {@link wildcardPattern}). */
export interface WildcardPattern {
  /** True when the whole of `text` matches the pattern. */
  test(text: string): boolean;
}

// Pattern tokens: a code point to match literally, or one of these two.
const anyRun = -1;
const anyOne = -2;

// What `*` and `?` never match: the line terminators, as `.` in a regular expression
// (ECMA-262 §22.2.2.9, "LineTerminator"), so the language stays what it has always been.
function isLineTerminator(codePoint: number): boolean {
  return codePoint === 0x0a || codePoint === 0x0d || codePoint === 0x2028 || codePoint === 0x2029;
}

function tokensOf(pattern: string): Int32Array {
  const tokens: number[] = [];
  for (const character of pattern) {
    const token = character === '*' ? anyRun : character === '?' ? anyOne : (character.codePointAt(0) ?? 0);
    // `**` is `*`: collapsed, so a run of stars costs one state.
    if (token === anyRun && tokens[tokens.length - 1] === anyRun) continue;
    tokens.push(token);
  }
  return Int32Array.from(tokens);
}

// Marks every state reachable from a marked state through a `*` that matches nothing.
function followEmptyRuns(tokens: Int32Array, states: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    if (states[i] === 1 && tokens[i] === anyRun) states[i + 1] = 1;
  }
}

/**
 * A whole-string matcher for a glob-like `pattern`: `*` is any run of characters, `?`
 * exactly one (a code point), everything else literal; neither wildcard matches a line
 * terminator. Target-name grants, audit filters and OpenSSH `known_hosts` host
 * patterns all use it. Patterns can come from anyone who may filter the audit log, so
 * matching never backtracks: it follows every position of the pattern at once, at most
 * (text length × pattern length) steps. Compile once and reuse for many texts.
 */
export function wildcardPattern(pattern: string): WildcardPattern {
  const tokens = tokensOf(pattern);
  if (!tokens.includes(anyRun) && !tokens.includes(anyOne)) return { test: (text) => text === pattern };
  return {
    test(text: string): boolean {
      // states[i] === 1: the text read so far can be matched by the first i tokens.
      let states = new Uint8Array(tokens.length + 1);
      let next = new Uint8Array(tokens.length + 1);
      states[0] = 1;
      followEmptyRuns(tokens, states);
      for (const character of text) {
        const codePoint = character.codePointAt(0) ?? 0;
        const wildcardFits = !isLineTerminator(codePoint);
        next.fill(0);
        let alive = false;
        for (let i = 0; i < tokens.length; i++) {
          if (states[i] !== 1) continue;
          const token = tokens[i];
          if (token === anyRun) {
            if (wildcardFits) {
              next[i] = 1;
              alive = true;
            }
          } else if (token === anyOne ? wildcardFits : token === codePoint) {
            next[i + 1] = 1;
            alive = true;
          }
        }
        if (!alive) return false;
        followEmptyRuns(tokens, next);
        [states, next] = [next, states];
      }
      return states[tokens.length] === 1;
    },
  };
}
