/**
 * Replaces control characters (C0, DEL, C1) with `?`. Text that comes from a remote
 * peer (target fields, refusal messages) goes to the engineer's terminal, where an
 * escape sequence could rewrite what is shown.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
