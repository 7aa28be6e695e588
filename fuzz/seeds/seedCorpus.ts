import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeDapMessage } from '../../src/dap/dapFramer.js';
import { targetNames } from '../targets/targetNames.js';

/** One entry of fuzz/seeds/hostileSeeds.json. */
type SeedEntry = { readonly row: string } & ({ readonly text: string } | { readonly base64: string } | { readonly repeat: ReadonlyArray<readonly [string, number]> });

/** The bytes of a seed entry. */
export function seedBytes(entry: SeedEntry): Buffer {
  if ('text' in entry) return Buffer.from(entry.text, 'utf8');
  if ('base64' in entry) return Buffer.from(entry.base64, 'base64');
  return Buffer.from(entry.repeat.map(([piece, count]) => piece.repeat(count)).join(''), 'utf8');
}

/** The `json vector:` and `json invalid:` blocks of docs/protocol.md, as JSON text. */
function protocolVectors(root: string): Array<{ name: string; text: string }> {
  const doc = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
  return [...doc.matchAll(/```json (?:vector|invalid):(\w+)\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, text: JSON.stringify(JSON.parse(m[2]!)) }));
}

/** The DAP requests of test/fixtures (valid and refused ones), each framed. */
function dapVectors(root: string): Buffer[] {
  const requests = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'dapRequestVectors.json'), 'utf8')) as { valid: Array<{ request: object }>; invalid: Array<{ request: object }> };
  const attach = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'attachArgumentVectors.json'), 'utf8')) as Record<string, unknown>;
  const attachArguments = Object.values(attach).filter(Array.isArray).flat() as Array<{ arguments?: object }>;
  return [
    ...[...requests.valid, ...requests.invalid].map((vector) => encodeDapMessage(vector.request)),
    ...attachArguments.map((vector, seq) => encodeDapMessage({ seq, type: 'request', command: 'attach', arguments: vector.arguments ?? {} })),
  ];
}

/** The YAML examples of docs/operations.md and deploy/config.example.yaml. */
function configExamples(root: string): Buffer[] {
  const doc = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => Buffer.from(m[1]!, 'utf8'));
  return [...blocks, readFileSync(join(root, 'deploy', 'config.example.yaml'))];
}

/**
 * The seed corpus of each fuzz target: the hostile-input table's inputs for its parser
 * (fuzz/seeds/hostileSeeds.json), the docs/protocol.md vectors, the DAP request vectors
 * of test/fixtures and the configuration examples, each in the target's input format
 * (the targets that read a leading chunking or peer byte get one).
 */
export function seedCorpus(root: string): Map<string, Buffer[]> {
  const hostile = JSON.parse(readFileSync(join(root, 'fuzz', 'seeds', 'hostileSeeds.json'), 'utf8')) as Record<string, SeedEntry[]>;
  const list = (name: string): Buffer[] => hostile[name]!.map(seedBytes);
  const vectors = protocolVectors(root);
  const lead = (byte: number, inputs: readonly Buffer[]): Buffer[] => inputs.map((input) => Buffer.concat([Buffer.from([byte]), input]));
  const controlLines = [...list('controlLines'), ...vectors.filter((v) => !v.name.startsWith('hello')).map((v) => Buffer.from(v.text))];
  const corpus = new Map<string, Buffer[]>([
    ['dapFramer', lead(3, [...list('dapStreams'), ...dapVectors(root).filter((frame) => frame.length < 4096), Buffer.concat(dapVectors(root).slice(0, 8))])],
    ['helloLine', [...list('helloLines'), ...vectors.map((v) => Buffer.from(v.text))]],
    ['controlChannel', lead(7, [...controlLines.map((line) => Buffer.concat([line, Buffer.from('\n')])), Buffer.from(controlLines.slice(0, 12).join('\n') + '\n')])],
    ['upgradeRequest', [0, 2, 5].flatMap((peer) => lead(peer, list('httpRequests')))],
    ['authorization', list('authorizationHeaders')],
    ['relayUrl', list('relayUrls')],
    ['config', [...list('configFiles'), ...configExamples(root)]],
  ]);
  corpus.set('all', targetNames.flatMap((name, selector) => lead(selector, corpus.get(name)!)));
  return corpus;
}

/** Writes each target's seeds to `<out>/<target>/<digest>` (the directory is emptied first). */
export function writeSeedCorpus(root: string, out: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [target, seeds] of seedCorpus(root)) {
    const directory = join(out, target);
    rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory, { recursive: true });
    for (const seed of seeds) writeFileSync(join(directory, createHash('sha1').update(seed).digest('hex')), seed);
    counts.set(target, seeds.length);
  }
  return counts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [root, out] = process.argv.slice(2);
  if (!root || !out) throw new Error('usage: seedCorpus.js <repository root> <output directory>');
  console.log(JSON.stringify(Object.fromEntries(writeSeedCorpus(root, out))));
}
