import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * deploy/container/Dockerfile, checked statically (no container engine here): a
 * multi-stage build whose runtime stage runs unprivileged, writes only to its data
 * volume, exposes the relay's ports and checks /healthz.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const text = readFileSync(join(root, 'deploy', 'container', 'Dockerfile'), 'utf8');

/** Instructions with continuation lines joined, comments dropped. */
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });

/** Instructions of the last stage (the image that runs). */
const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
const runtime = instructions.slice(lastFrom);

describe('deploy/container/Dockerfile', () => {
  it('is a multi-stage build from pinned Node 20 images, copying only what exists', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:20[\w.-]*-slim AS \w+$/);
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build'))).toBe(true);
    expect(instructions.some((i) => i.keyword === 'ADD')).toBe(false);
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true);
    }
    expect(text).toMatch(/npm ci --ignore-scripts/);
    expect(text).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root numeric user, with its state on a volume', () => {
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid] = users[0]!.args.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(runtime.find((i) => i.keyword === 'VOLUME')?.args).toContain('/var/lib/dbgrelay');
    expect(text).toMatch(/DBGRELAY_DATA_DIR=\/var\/lib\/dbgrelay/);
    expect(text).toMatch(/chown 10001:10001 \/var\/lib\/dbgrelay/);
  });

  it('exposes wss, tcps and metrics, and checks /healthz on the metrics listener it enables', () => {
    const exposed = runtime.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(exposed.sort()).toEqual(['7443', '7444', '9464']);
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD \["node", "-e", ".*\/healthz/);
    expect(text).toMatch(/DBGRELAY_METRICS_ENABLED=true/);
    expect(text).toMatch(/DBGRELAY_METRICS_PORT=9464/);
    expect(runtime.find((i) => i.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
    expect(runtime.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "/app/dist/cli/main.js"]');
  });

  it('starts the same way the healthcheck expects: the entry point exists after a build', () => {
    // `npm run build` compiles src/cli/main.ts to dist/cli/main.js (tsconfig.json rootDir src, outDir dist).
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(root, 'src', 'cli', 'main.ts'))).toBe(true);
    // and the script `npm run build` runs is in the build stage and its context
    const buildScript = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build;
    expect(buildScript).toBe('node scripts/build.mjs');
    expect(text).toContain('COPY scripts/build.mjs ./scripts/');
    expect(readFileSync(join(root, 'deploy', 'container', 'Dockerfile.dockerignore'), 'utf8')).toContain('!scripts/build.mjs');
  });
});
