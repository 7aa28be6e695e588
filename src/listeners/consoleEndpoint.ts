/** The path under which the `wss` listener hands requests to the web console. */
export const consolePathPrefix = '/console';

/** True when `path` belongs to the web console (`/console`, `/console/...`). */
export function isConsolePath(path: string): boolean {
  return path === consolePathPrefix || path.startsWith(`${consolePathPrefix}/`);
}

/** The path of a request target, without its query string (the console's API takes filters there). */
export function consolePath(url: string | undefined): string {
  return (url ?? '/').split(/[?#]/, 1)[0] ?? '/';
}
