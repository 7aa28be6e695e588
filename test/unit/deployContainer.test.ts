import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { copies, dockerfileText, healthcheckCommand, instructions, runtime, runtimeLabels, stage } from '../support/deploy/dockerfile.js';
import { inBuildContext } from '../support/deploy/dockerignore.js';

/**
 * deploy/container/Dockerfile, checked statically (no container engine here): a
 * multi-stage build whose runtime stage runs unprivileged, writes only to its data
 * volume, exposes the relay's ports and checks its health with `dbgrelay healthcheck`.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const text = dockerfileText;

/** Every file under `dir` (relative to the repository root, with `/`). */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/**
 * The top-level entries of the package the compiled relay reads at run time: each
 * `new URL('…', import.meta.url)` of src/, resolved from where its file lands in dist/
 * (src/console/x.ts runs as dist/console/x.js), e.g. `web` and `package.json`.
 */
function entriesReadAtRunTime(): string[] {
  const entries = new Set<string>();
  for (const file of filesUnder('src').filter((path) => path.endsWith('.ts'))) {
    for (const [, target] of readFileSync(join(root, file), 'utf8').matchAll(/new URL\(['`]([^'`$]+)[^'`]*['`], import\.meta\.url\)/g)) {
      const compiled = posix.join('dist', posix.dirname(file.slice('src/'.length)));
      entries.add(posix.normalize(posix.join(compiled, target!)).split('/')[0]!);
    }
  }
  return [...entries].sort();
}

describe('deploy/container/Dockerfile', () => {
  it('is a multi-stage build from a Node LTS line still maintained, copying only what exists', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:\d+-bookworm-slim AS \w+$/);
    const majors = new Set(froms.map((from) => Number(/^node:(\d+)/.exec(from.args)![1])));
    expect(majors.size).toBe(1);
    const [major] = majors;
    // End of life of each LTS line (https://github.com/nodejs/Release#release-schedule).
    const endOfLife: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30' };
    expect(endOfLife[major!], `node:${major} is not an LTS line`).toBeDefined();
    expect(Date.parse(endOfLife[major!]!), `node:${major} reached its end of life`).toBeGreaterThan(Date.now());
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

  it('exposes wss, tcps and metrics, and checks health with dbgrelay healthcheck (the main listener, metrics on or off)', () => {
    const exposed = runtime.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(exposed.sort()).toEqual(['7443', '7444', '9464']);
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/--timeout=5s /);
    expect(healthcheckCommand()).toEqual(['node', '/app/dist/cli/main.js', 'healthcheck']); // run for real by test/e2e/containerHealthcheck.test.ts
    expect(text).toMatch(/DBGRELAY_METRICS_ENABLED=true/);
    expect(text).toMatch(/DBGRELAY_METRICS_PORT=9464/);
    expect(runtime.find((i) => i.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
    expect(runtime.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "/app/dist/cli/main.js"]');
  });

  it('holds in its runtime stage every part of the package the relay reads at run time, from a build stage that has them', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    const readAtRunTime = entriesReadAtRunTime();
    expect(readAtRunTime).toEqual(expect.arrayContaining(['dist', 'package.json', 'web']));
    // Documentation and examples ship in the npm package for people, not for the program.
    const forPeople = ['deploy/', 'docs/*.md', 'SECURITY.md'];
    const shipped = pkg.files.filter((entry) => !entry.startsWith('!') && !forPeople.includes(entry)).map((entry) => entry.replace(/\/$/, ''));
    expect(shipped.sort()).toEqual(readAtRunTime.filter((entry) => entry !== 'package.json'));

    const fromBuild = new Map(
      copies(runtime).flatMap((copy) => (copy.from === 'build' ? copy.sources.map((source) => [source.replace(/^\/src\//, ''), copy.destination] as const) : [])),
    );
    for (const entry of [...readAtRunTime, 'LICENSE']) expect(fromBuild.get(entry), `COPY --from=build /src/${entry} into /app`).toBe(`./${entry}`);

    const build = stage('build');
    const buildContext = copies(build).filter((copy) => copy.from === undefined);
    for (const entry of [...readAtRunTime, 'LICENSE'].filter((entry) => entry !== 'dist')) {
      expect(
        buildContext.some((copy) => copy.sources.includes(entry)),
        `the build stage copies ${entry}`,
      ).toBe(true);
      const files = statSync(join(root, entry)).isDirectory() ? filesUnder(entry) : [entry];
      expect(files.length).toBeGreaterThan(0);
      expect(
        files.filter((file) => !inBuildContext(file)),
        'left out of the build context by Dockerfile.dockerignore',
      ).toEqual([]);
    }
    expect(build.some((i) => i.keyword === 'RUN' && i.args.startsWith('npm run build'))).toBe(true); // makes dist/
    expect(inBuildContext('test/unit/deployContainer.test.ts')).toBe(false);
  });

  it('carries OCI labels that agree with package.json, and no source it does not name', () => {
    const labels = runtimeLabels();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; description: string; license: string; repository?: unknown };
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': pkg.name,
      'org.opencontainers.image.description': pkg.description,
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.licenses': pkg.license,
    });
    const base = instructions
      .filter((i) => i.keyword === 'FROM')
      .at(-1)!
      .args.split(' ')[0];
    expect(labels['org.opencontainers.image.base.name']).toBe(`docker.io/library/${base}`);
    if (pkg.repository === undefined) expect(labels['org.opencontainers.image.source']).toBeUndefined();
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
