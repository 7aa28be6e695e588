import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The patterns of deploy/container/Dockerfile.dockerignore, comments and blank lines dropped. */
export const dockerignorePatterns: readonly string[] = readFileSync(join(root, 'deploy', 'container', 'Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** A .dockerignore pattern as a regular expression over a relative path (`**` any depth, `*` and `?` within one name). */
function patternRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part === '**' || part === '**/') return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Whether the build context keeps `path` (relative to the repository root): as Docker
 * does, a pattern matches the path or one of its parent folders, the last matching
 * pattern wins, and `!` keeps what an earlier pattern left out.
 */
export function inBuildContext(path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let kept = true;
  for (const pattern of dockerignorePatterns) {
    const keep = pattern.startsWith('!');
    const expression = patternRegExp(keep ? pattern.slice(1) : pattern);
    if (candidates.some((candidate) => expression.test(candidate))) kept = keep;
  }
  return kept;
}
