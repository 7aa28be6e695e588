import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RelayError } from '../common/relayError.js';
import { certificateFingerprint, createCa, createLeaf, loopbackNames, type ServerNames } from './certificateFactory.js';
import { devCertificatePaths } from './devCertificates.js';
import { parseServerNames } from './serverNames.js';

/** One file {@link writeNewFiles} writes. */
interface PlannedFile {
  readonly path: string;
  readonly content: string;
  /** 0600 for private keys, 0644 for certificates. */
  readonly mode: number;
}

/**
 * Writes `files` into `dir` (created 0700 when missing). Unless `force`, refuses with
 * `CONFIG_INVALID` before writing anything when any of them exists. The mode is set
 * explicitly, so an overwritten file does not keep an older, looser mode.
 */
function writeNewFiles(dir: string, files: readonly PlannedFile[], force: boolean): void {
  refuseExisting(
    files.map((file) => file.path),
    force,
  );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const file of files) {
    writeFileSync(file.path, file.content, { mode: file.mode, flag: force ? 'w' : 'wx' });
    chmodSync(file.path, file.mode);
  }
}

/** Throws `CONFIG_INVALID` naming the `paths` that exist, unless `force`. */
function refuseExisting(paths: readonly string[], force: boolean): void {
  if (force) return;
  const existing = paths.filter((path) => existsSync(path));
  if (existing.length > 0) throw new RelayError('CONFIG_INVALID', `refusing to overwrite ${existing.join(', ')} (use --force to replace)`);
}

/**
 * Subject alternative names from `--san` values: IP literals (v4 or v6) become IP
 * names, everything else must be a DNS name (optionally `*.`-prefixed). No values:
 * the loopback names (localhost, 127.0.0.1, ::1). Throws `CONFIG_INVALID`.
 */
export function parseSubjectAltNames(values: readonly string[]): ServerNames {
  return values.length === 0 ? loopbackNames : parseServerNames(values, '--san');
}

/** What {@link initCertificates} wrote. */
export interface InitializedCertificates {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFingerprint: string;
  readonly serverFingerprint: string;
  readonly names: ServerNames;
}

/**
 * `dbgrelay certs init`: a CA and a server certificate it signs for `names`, in the
 * layout of the relay's data directory (`ca.pem`, `ca-key.pem`, `server.pem`,
 * `server-key.pem`), so that `--dir <dataDir>` makes them the relay's certificates.
 */
export function initCertificates(dir: string, names: ServerNames, options: { force?: boolean; days?: number } = {}): InitializedCertificates {
  const paths = devCertificatePaths(dir);
  refuseExisting([paths.caKeyFile, paths.caFile, paths.keyFile, paths.certFile], options.force ?? false);
  const ca = createCa('dbgrelay CA');
  const commonName = names.dnsNames[0] ?? names.ipAddresses[0] ?? 'dbgrelay';
  const server = createLeaf(ca, commonName, { server: names }, options.days);
  writeNewFiles(
    dir,
    [
      { path: paths.caKeyFile, content: ca.keyPem, mode: 0o600 },
      { path: paths.caFile, content: ca.certPem, mode: 0o644 },
      { path: paths.keyFile, content: server.keyPem, mode: 0o600 },
      { path: paths.certFile, content: server.certPem, mode: 0o644 },
    ],
    options.force ?? false,
  );
  return { ...paths, caFingerprint: certificateFingerprint(ca.certPem), serverFingerprint: certificateFingerprint(server.certPem), names };
}

/** Client certificate names: what a `cn` rule of `auth.certificates.grants` can match. */
const clientName = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** What {@link issueClientCertificate} wrote. */
export interface IssuedClientCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly fingerprint: string;
  readonly commonName: string;
}

/**
 * `dbgrelay certs client NAME`: a client certificate (CN `name`, extended key usage
 * clientAuth) signed by the CA in `dir` (`ca.pem`, `ca-key.pem`), written as
 * `client-<name>.pem` and `client-<name>-key.pem` (0600). Throws `CONFIG_INVALID`.
 */
export function issueClientCertificate(dir: string, name: string, options: { force?: boolean; days?: number } = {}): IssuedClientCertificate {
  return issueLeaf(dir, name, 'client', options);
}

/**
 * Issues a peer certificate for relay instance `name` (serverAuth and clientAuth: the
 * links between instances are mutual TLS) signed by the CA in `dir`:
 * `peer-<name>.pem` and `peer-<name>-key.pem` (0600). Best signed by a CA of its own,
 * used for nothing else: any certificate it signed is accepted as a peer. Errors as
 * for {@link issueClientCertificate}.
 */
export function issuePeerCertificate(dir: string, name: string, options: { force?: boolean; days?: number } = {}): IssuedClientCertificate {
  return issueLeaf(dir, name, 'peer', options);
}

function issueLeaf(dir: string, name: string, kind: 'client' | 'peer', options: { force?: boolean; days?: number }): IssuedClientCertificate {
  if (!clientName.test(name)) {
    throw new RelayError('CONFIG_INVALID', `${kind} name ${JSON.stringify(name)}: expected 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`);
  }
  const paths = devCertificatePaths(dir);
  let ca;
  try {
    ca = { certPem: readFileSync(paths.caFile, 'utf8'), keyPem: readFileSync(paths.caKeyFile, 'utf8') };
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `cannot read the CA in ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}); run \`dbgrelay certs init --dir ${dir}\` first`);
  }
  const certFile = join(dir, `${kind}-${name}.pem`);
  const keyFile = join(dir, `${kind}-${name}-key.pem`);
  refuseExisting([keyFile, certFile], options.force ?? false);
  const usage = kind === 'client' ? ({ client: true } as const) : ({ client: true, server: { dnsNames: [name], ipAddresses: [] } } as const);
  const leaf = createLeaf(ca, name, usage, options.days);
  writeNewFiles(
    dir,
    [
      { path: keyFile, content: leaf.keyPem, mode: 0o600 },
      { path: certFile, content: leaf.certPem, mode: 0o644 },
    ],
    options.force ?? false,
  );
  return { certFile, keyFile, fingerprint: certificateFingerprint(leaf.certPem), commonName: name };
}

/** One certificate of a PEM file: its fingerprint and subject. */
export interface CertificateSummary {
  readonly fingerprint: string;
  readonly subject: string;
}

/** The certificates of a PEM file, in file order. Throws `CONFIG_INVALID` when there is none. */
export function certificatesInFile(file: string): CertificateSummary[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new RelayError('CONFIG_INVALID', `${file} holds no PEM certificate`);
  return blocks.map((block) => {
    try {
      const cert = new X509Certificate(block);
      return { fingerprint: certificateFingerprint(cert.raw), subject: cert.subject.replaceAll('\n', ', ') };
    } catch (error) {
      throw new RelayError('CONFIG_INVALID', `${file}: not a valid certificate (${(error as Error).message})`);
    }
  });
}
