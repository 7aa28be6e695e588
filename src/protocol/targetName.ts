/**
 * Target names (docs/protocol.md §5): `NAME`, or `GROUP/MEMBER` for one process of a
 * group (a worker of a multi-process server, e.g. `web-1/12345`). Each part starts with
 * a letter or digit and holds letters, digits, `.`, `_` and `-`: no `..` part, no
 * control or look-alike characters, and at most one `/`.
 */
export const targetNameSegment = '[A-Za-z0-9][A-Za-z0-9._-]{0,62}';
/** The longest target name: two parts of 63 characters and the slash. */
export const maxTargetNameChars = 127;
/** A name of one part: configured targets and SSH forwards, which have no members. */
export const plainTargetNamePattern = new RegExp(`^${targetNameSegment}$`);
/** Any target name, a group member's included. */
export const targetNamePattern = new RegExp(`^${targetNameSegment}(?:/${targetNameSegment})?$`);

/** True when `name` is an acceptable target name (`NAME` or `GROUP/MEMBER`). */
export function isValidTargetName(name: string): boolean {
  return targetNamePattern.test(name);
}

/** True when `name` is a one-part target name (no group member). */
export function isPlainTargetName(name: string): boolean {
  return plainTargetNamePattern.test(name);
}

/** The group of a member name (`web-1` of `web-1/12345`); undefined for a one-part name. */
export function targetGroupOf(name: string): string | undefined {
  const slash = name.indexOf('/');
  return slash > 0 ? name.slice(0, slash) : undefined;
}
