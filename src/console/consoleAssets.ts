import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { consoleSecurityHeaders } from './consoleHeaders.js';

/** The console's files and their types: all it serves besides its API (no other path reads the disk). */
const assetTypes: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

/**
 * The folder the console's files ship in: `web/console/` at the package root (listed in
 * package.json `files`), the same two levels up from `src/console/` and `dist/console/`.
 */
export const consoleAssetDir = new URL('../../web/console/', import.meta.url);

/** The console's page, style sheet and script, read once when the relay starts. */
export class ConsoleAssets {
  private readonly files = new Map<string, Buffer>();

  constructor(dir: URL = consoleAssetDir) {
    for (const name of Object.keys(assetTypes)) this.files.set(name, readFileSync(new URL(name, dir)));
  }

  /** True when `name` (the path after `/console/`) is one of the console's files. */
  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Sends file `name` (one {@link has} accepts); browsers revalidate it on each load. */
  send(response: ServerResponse, name: string): void {
    const body = this.files.get(name);
    const type = assetTypes[name];
    if (!body || !type) throw new Error(`not a console file: ${name}`);
    response.writeHead(200, { ...consoleSecurityHeaders, 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
    response.end(body);
  }
}
