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

// The pattern as a bit-parallel automaton (Baeza-Yates–Gonnet "shift-and"): bit i of a
// state set means "the first i tokens match the text read so far"; one character moves
// every state at once with a few word operations, whatever the pattern.
class StateSets {
  readonly words: number;
  readonly runs: Uint32Array;
  readonly anyOnes: Uint32Array;
  private readonly literals = new Map<number, Uint32Array>();
  private readonly none: Uint32Array;

  constructor(readonly tokens: Int32Array) {
    this.words = Math.ceil((tokens.length + 1) / 32);
    this.runs = new Uint32Array(this.words);
    this.anyOnes = new Uint32Array(this.words);
    this.none = new Uint32Array(this.words);
    tokens.forEach((token, i) => {
      const set = token === anyRun ? this.runs : token === anyOne ? this.anyOnes : this.literal(token, true);
      set[i >>> 5] = ((set[i >>> 5] ?? 0) | (1 << (i & 31))) >>> 0;
    });
  }

  /** The states whose token is the literal `codePoint`. */
  literal(codePoint: number, create = false): Uint32Array {
    let set = this.literals.get(codePoint);
    if (!set && create) {
      set = new Uint32Array(this.words);
      this.literals.set(codePoint, set);
    }
    return set ?? this.none;
  }

  /** Adds to `states` those reached through a `*` that matches nothing (one step: stars never follow each other). */
  skipEmptyRuns(states: Uint32Array): void {
    let carry = 0;
    for (let w = 0; w < this.words; w++) {
      const fromRuns = (states[w] ?? 0) & (this.runs[w] ?? 0);
      states[w] = ((states[w] ?? 0) | (fromRuns << 1) | carry) >>> 0;
      carry = fromRuns >>> 31;
    }
  }
}

/**
 * A whole-string matcher for a glob-like `pattern`: `*` is any run of characters, `?`
 * exactly one (a code point), everything else literal; neither wildcard matches a line
 * terminator. Target-name grants, audit filters and OpenSSH `known_hosts` host
 * patterns all use it. Patterns can come from anyone who may filter the audit log, so
 * matching never backtracks: it follows every position of the pattern at once, in
 * (text length × pattern length / 32) word steps. Compile once and reuse for many texts.
 */
export function wildcardPattern(pattern: string): WildcardPattern {
  const tokens = tokensOf(pattern);
  if (!tokens.includes(anyRun) && !tokens.includes(anyOne)) return { test: (text) => text === pattern };
  const sets = new StateSets(tokens);
  const { words, runs, anyOnes } = sets;
  const accept = tokens.length;
  return {
    test(text: string): boolean {
      let states = new Uint32Array(words);
      let next = new Uint32Array(words);
      states[0] = 1;
      sets.skipEmptyRuns(states);
      for (const character of text) {
        const codePoint = character.codePointAt(0) ?? 0;
        const wildcardFits = !isLineTerminator(codePoint);
        const literal = sets.literal(codePoint);
        let carry = 0;
        let alive = 0;
        for (let w = 0; w < words; w++) {
          const current = states[w] ?? 0;
          // A state moves on when its token takes this character; a `*` also stays.
          const moves = current & ((literal[w] ?? 0) | (wildcardFits ? (anyOnes[w] ?? 0) : 0));
          const stays = wildcardFits ? current & (runs[w] ?? 0) : 0;
          const word = ((moves << 1) | carry | stays) >>> 0;
          carry = moves >>> 31;
          next[w] = word;
          alive |= word;
        }
        if (alive === 0) return false;
        sets.skipEmptyRuns(next);
        [states, next] = [next, states];
      }
      return (((states[accept >>> 5] ?? 0) >>> (accept & 31)) & 1) === 1;
    },
  };
}
