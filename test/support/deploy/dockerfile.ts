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

/** Instructions of the stage named `name` (`FROM … AS name`), FROM included. */
export function stage(name: string): readonly Instruction[] {
  const start = instructions.findIndex((i) => i.keyword === 'FROM' && new RegExp(`\\sAS\\s+${name}$`, 'i').test(i.args));
  if (start < 0) throw new Error(`deploy/container/Dockerfile: no stage ${name}`);
  const end = instructions.findIndex((i, index) => index > start && i.keyword === 'FROM');
  return instructions.slice(start, end < 0 ? undefined : end);
}

/** A `COPY` of a stage: its `--from` stage (undefined: the build context), sources and destination. */
export interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

/** The `COPY` instructions of `stageInstructions` (shell form). */
export function copies(stageInstructions: readonly Instruction[]): Copy[] {
  return stageInstructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}
