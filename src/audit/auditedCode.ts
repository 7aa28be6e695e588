/**
 * Argument fields that carry code the debuggee runs: an `evaluate` expression, a
 * breakpoint's condition, hit condition or log message, the value `setVariable` or
 * `setExpression` evaluates, an exception filter's condition, the text `completions`
 * evaluates the prefix of. An audited request whose record would cut or drop one of
 * them is refused (`AUDIT_RECORD_TOO_LARGE`), so what runs is always what the record says.
 */
export const codeFields: ReadonlySet<string> = new Set(['expression', 'condition', 'hitCondition', 'logMessage', 'value', 'text']);

/**
 * The code-bearing fields found anywhere in `value` (lists and objects walked in order),
 * each as `key=value`: two records show the same code when these lists are equal.
 */
export function codeOf(value: unknown): string[] {
  const found: string[] = [];
  const walk = (item: unknown): void => {
    if (Array.isArray(item)) {
      for (const element of item) walk(element);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, field] of Object.entries(item)) {
        if (codeFields.has(key)) found.push(`${key}=${typeof field === 'string' ? field : JSON.stringify(field)}`);
        else walk(field);
      }
    }
  };
  walk(value);
  return found;
}

/** True when `record` does not show every code-bearing field of `whole` unchanged. */
export function cutsCode(whole: unknown, record: unknown): boolean {
  const expected = codeOf(whole);
  const shown = codeOf(record);
  return expected.length !== shown.length || expected.some((code, i) => code !== shown[i]);
}
