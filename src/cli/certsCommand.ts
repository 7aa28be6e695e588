import { InvalidArgumentError, type Command } from 'commander';
import { certificatesInFile, initCertificates, issueClientCertificate, issuePeerCertificate, parseSubjectAltNames } from '../certs/certificateFiles.js';
import { clientDataDir } from './clientOptions.js';
import { devCertificatePaths } from '../certs/devCertificates.js';

interface CertsFlagValues {
  readonly dir?: string;
  readonly force?: boolean;
  readonly days?: number;
}

interface InitFlagValues extends CertsFlagValues {
  readonly san?: string[];
}

function say(line: string): void {
  process.stdout.write(line + '\n');
}

function parseDays(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a number of days from 1 to 99999');
  return Number(value);
}

function directoryOf(flags: CertsFlagValues): string {
  return flags.dir ?? clientDataDir(process.env);
}

const dirHelp = 'directory for the files (default: the relay data directory, $DBGRELAY_DATA_DIR or ~/.local/state/dbgrelay)';

function addCommonOptions(command: Command, what: string): Command {
  return command
    .option('--dir <dir>', dirHelp)
    .option('--days <days>', `days the ${what} is valid (default 825)`, parseDays)
    .option('--force', 'replace existing files (default: refuse to overwrite anything)');
}

/**
 * Registers `dbgrelay certs init|client|peer|fingerprint`: a CA and server certificate,
 * client certificates for mTLS, peer certificates of relay instances, and `sha256:` fingerprints for pinning (node-forge;
 * private keys written 0600).
 */
export function registerCertsCommand(program: Command): void {
  const certs = program
    .command('certs')
    .description('make a CA, server and client certificates (mTLS), and fingerprints for pinning')
    .addHelpText(
      'after',
      [
        '',
        'Typical use:',
        '  dbgrelay certs init --dir /etc/dbgrelay/tls --san relay.example.com --san 10.0.0.5',
        '  dbgrelay certs client alice --dir /etc/dbgrelay/tls     # for `dbgrelay attach --cert/--key`',
        '  dbgrelay certs client agent-web --dir /etc/dbgrelay/tls # for `python -m dbgrelay --client-cert/--client-key`',
        '  dbgrelay certs fingerprint /etc/dbgrelay/tls/ca.pem     # pin it with --fingerprint',
        '  dbgrelay certs init --dir /etc/dbgrelay/peers && dbgrelay certs peer relay-1 --dir /etc/dbgrelay/peers',
        '                                                           # several instances: a CA of their own',
        '',
        'The files use the layout of the relay data directory (ca.pem, ca-key.pem, server.pem,',
        'server-key.pem): with --dir set to the data directory the relay uses them as they are.',
        'Private keys are written with mode 0600; keep ca-key.pem off the relay host if you can.',
      ].join('\n'),
    );

  addCommonOptions(
    certs
      .command('init')
      .description('create a CA (ca.pem, ca-key.pem) and a server certificate it signs (server.pem, server-key.pem)')
      .option(
        '--san <name>',
        'DNS name or IP address the relay is reached by; repeatable or comma-separated (default: localhost, 127.0.0.1, ::1)',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    'server certificate',
  ).action((flags: InitFlagValues) => {
    const dir = directoryOf(flags);
    const made = initCertificates(dir, parseSubjectAltNames(flags.san ?? []), { force: flags.force ?? false, ...(flags.days ? { days: flags.days } : {}) });
    say(`CA certificate      ${made.caFile}`);
    say(`CA key (0600)       ${made.caKeyFile}`);
    say(`server certificate  ${made.certFile}  (${[...made.names.dnsNames, ...made.names.ipAddresses].join(', ')})`);
    say(`server key (0600)   ${made.keyFile}`);
    say(`CA fingerprint      ${made.caFingerprint}`);
    say('');
    say('Relay config: tls.certFile/tls.keyFile (or use --dir <dataDir>); for mTLS also tls.clientCaFile: ' + made.caFile);
    say('The relay presents server.pem followed by ca.pem only in the data-directory layout; with tls.certFile,');
    say('append ca.pem to the certificate file so that clients can pin the CA.');
  });

  addCommonOptions(
    certs
      .command('client')
      .description('create a client certificate with common name NAME, signed by the CA in --dir, for mTLS')
      .argument('<name>', 'common name (CN) of the certificate, matched by auth.certificates.grants[].cn on the relay'),
    'client certificate',
  ).action((name: string, flags: CertsFlagValues) => {
    const made = issueClientCertificate(directoryOf(flags), name, { force: flags.force ?? false, ...(flags.days ? { days: flags.days } : {}) });
    say(`client certificate  ${made.certFile}  (CN=${made.commonName})`);
    say(`client key (0600)   ${made.keyFile}`);
    say(`fingerprint         ${made.fingerprint}`);
    say('');
    say(`Client: dbgrelay attach TARGET --cert ${made.certFile} --key ${made.keyFile}`);
    say(`Agent:  python -m dbgrelay --client-cert ${made.certFile} --client-key ${made.keyFile} ...`);
    say(`Relay:  auth.certificates.grants: [{ cn: "${made.commonName}", scopes: ["attach:*"] }]  (or register:<pattern>, admin)`);
  });

  addCommonOptions(
    certs
      .command('peer')
      .description('create the peer certificate of relay instance NAME (several instances as one), signed by the CA in --dir')
      .argument('<name>', 'the instance (cluster.instanceId); the certificate serves both ends of the links between instances'),
    'peer certificate',
  ).action((name: string, flags: CertsFlagValues) => {
    const dir = directoryOf(flags);
    const made = issuePeerCertificate(dir, name, { force: flags.force ?? false, ...(flags.days ? { days: flags.days } : {}) });
    say(`peer certificate    ${made.certFile}  (CN=${made.commonName})`);
    say(`peer key (0600)     ${made.keyFile}`);
    say(`fingerprint         ${made.fingerprint}`);
    say('');
    say(`Relay: cluster.peer.certFile: ${made.certFile}`);
    say(`       cluster.peer.keyFile: ${made.keyFile}`);
    say(`       cluster.peer.caFile: ${devCertificatePaths(dir).caFile}`);
    say('Every certificate this CA signs is accepted as a peer: keep the CA for the instances alone.');
  });

  certs
    .command('fingerprint')
    .description('print the sha256: fingerprint of the first certificate of a PEM file (the form --fingerprint takes)')
    .argument('<file>', 'PEM certificate file (a chain file: its first certificate)')
    .option('--all', 'print every certificate of the file, one per line, with its subject')
    .action((file: string, flags: { all?: boolean }) => {
      const summaries = certificatesInFile(file);
      if (flags.all) for (const summary of summaries) say(`${summary.fingerprint}  ${summary.subject}`);
      else say(summaries[0]!.fingerprint);
    });
}
