import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One Dockerfile instruction: its keyword (upper case) and the rest of the line. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The text of deploy/container/Dockerfile. */
export const dockerfileText = readFileSync(join(root, 'deploy', 'container', 'Dockerfile'), 'utf8');

/** Instructions with continuation lines joined, comments dropped. */
export const instructions: readonly Instruction[] = dockerfileText
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });

/** Instructions of the last stage (the image that runs). */
export const runtime: readonly Instruction[] = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf('FROM'));

/** The argv of the runtime stage's HEALTHCHECK (exec form, `CMD [...]`). */
export function healthcheckCommand(): string[] {
  const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
  const exec = /CMD (\[.*\])$/.exec(healthcheck?.args ?? '');
  if (!exec) throw new Error('deploy/container/Dockerfile: no HEALTHCHECK CMD [...] in the runtime stage');
  return JSON.parse(exec[1]!) as string[];
}

/** The runtime stage's `ENV name=value` settings (values without quotes or spaces). */
export function runtimeEnvironment(): Record<string, string> {
  return Object.fromEntries(runtime.filter((i) => i.keyword === 'ENV').flatMap((i) => [...i.args.matchAll(/([A-Z_]+)=(\S+)/g)].map(([, name, value]) => [name!, value!])));
}

/** The runtime stage's `LABEL key="value"` pairs. */
export function runtimeLabels(): Record<string, string> {
  return Object.fromEntries(runtime.filter((i) => i.keyword === 'LABEL').flatMap((i) => [...i.args.matchAll(/([\w.-]+)="([^"]*)"/g)].map(([, key, value]) => [key!, value!])));
}
