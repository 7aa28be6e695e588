/** Allowed target names (docs/protocol.md §5): no path separators, no control or look-alike characters. */
export const targetNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** True when `name` is an acceptable target name. */
export function isValidTargetName(name: string): boolean {
  return targetNamePattern.test(name);
}
