/** Where, under the root, the boot links the setup created are listed (JSON array of link keys). */
export const ownedLinksFile: string;
/** The links under `root` that start something at boot, as keys relative to the root. */
export function bootLinks(root: string): string[];
/** The link keys the setup recorded as its own under `root`. */
export function ownedBootLinks(root: string): string[];
/** Adds `keys` to the setup's own links under `root`; returns them all. */
export function recordOwnedBootLinks(root: string, keys: readonly string[]): string[];
/** Disables each of `keys` that is enabled under `root`; returns the keys it disabled. */
export function disableBootLinks(root: string, keys: readonly string[]): string[];
/** Records the links that appeared since `before` as the setup's own, then disables every owned link that is enabled. */
export function disableOwnBootLinks(root: string, before: readonly string[]): { created: string[]; disabled: string[] };
