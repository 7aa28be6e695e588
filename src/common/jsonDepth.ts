import { RelayError } from './relayError.js';

/**
 * The default deepest nesting of arrays and objects a message from the network may
 * have (the relay's config `limits.maxJsonDepth`; the bound of the client, which has no
 * such key). DAP's deepest legitimate requests (`setExceptionBreakpoints` with
 * `exceptionOptions` paths, `variables` answers) nest well under 16 levels; 64 leaves
 * room while keeping every recursive walk over a parsed message (`JSON.stringify`,
 * schema validation, zod) far from the stack limit, which a few thousand levels reach.
 */
export const maxJsonDepth = 64;

/** How deep one kind of JSON text from the network may nest, and who hears of a refusal. */
export interface JsonDepthBound {
  /** The deepest nesting accepted (config `limits.maxJsonDepth` on the relay). */
  readonly maxDepth: number;
  /** Called once for each text refused for its depth (a metric). */
  readonly onRefused?: () => void;
}

/** The bound of parsers without a configuration of their own: {@link maxJsonDepth}, uncounted. */
export const defaultJsonDepthBound: JsonDepthBound = { maxDepth: maxJsonDepth };

const openBrace = 0x7b;
const openBracket = 0x5b;
const closeBrace = 0x7d;
const closeBracket = 0x5d;
const quote = 0x22;
const backslash = 0x5c;

/**
 * The deepest nesting of `[`/`{` in a JSON text, counted without parsing it (RFC 8259
 * §2: brackets inside strings do not count, and a `\` escapes the next character of a
 * string). Stops counting as soon as `limit` is passed and returns `limit + 1`, so a
 * hostile text costs at most one pass over its bytes.
 */
export function jsonNestingDepth(text: Buffer | string, limit = maxJsonDepth): number {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === backslash) i++;
      else if (byte === quote) inString = false;
      continue;
    }
    if (byte === quote) inString = true;
    else if (byte === openBrace || byte === openBracket) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if (byte === closeBrace || byte === closeBracket) depth--;
  }
  return deepest;
}

/**
 * `JSON.parse` for text from the network: throws `BAD_REQUEST` when the text nests
 * deeper than `bound.maxDepth` (checked before parsing it; `bound.onRefused` hears of
 * it) or is not JSON. `what` names the text in the message ("DAP message body", "hello
 * line", ...); the message never quotes the text, which may carry a credential.
 */
export function parseBoundedJson(text: Buffer | string, what: string, bound: JsonDepthBound = defaultJsonDepthBound): unknown {
  const limit = bound.maxDepth;
  if (jsonNestingDepth(text, limit) > limit) {
    bound.onRefused?.();
    throw new RelayError('BAD_REQUEST', `${what} nests deeper than ${limit} levels`);
  }
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    throw new RelayError('BAD_REQUEST', `${what} is not valid JSON`);
  }
}
