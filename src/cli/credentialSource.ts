import { join } from 'node:path';
import { clientDataDir, type ClientConnection, type ClientFlagValues } from './clientOptions.js';

/** Which credential a client command presents, and where it came from (never its value). */
export interface CredentialSource {
  readonly kind: 'token' | 'secret' | 'certificate' | 'none';
  /** Where it came from, as the user gave it: `--secret-file PATH`, `DBGRELAY_SECRET`, `--token-file PATH`, ... */
  readonly description: string;
}

/**
 * The source of the credential {@link resolveClientConnection} chose, in its order:
 * the client context's when it gave it, else a token (`--token-file`, else `DBGRELAY_TOKEN`), else a secret (`--secret-file`, the
 * URL's `secret@`, `DBGRELAY_SECRET`, `<dataDir>/secret`), else the client certificate.
 * With `directUrl` (a direct endpoint's URL), its `secret@` comes first. Named in an
 * `AUTH_FAILED` so the user knows which one to fix.
 */
export function credentialSourceOf(values: ClientFlagValues, connection: ClientConnection, env: NodeJS.ProcessEnv = process.env, directUrl?: string): CredentialSource {
  // The client context gave it (clientContext.ts words it: `the secret in secret-file PATH of context "NAME"`).
  if (connection.contextCredential !== undefined && (connection.token !== undefined || connection.secret !== undefined)) {
    return { kind: connection.token !== undefined ? 'token' : 'secret', description: connection.contextCredential };
  }
  if (connection.token !== undefined) {
    return { kind: 'token', description: values.tokenFile !== undefined ? `the token in --token-file ${values.tokenFile}` : 'the token in DBGRELAY_TOKEN' };
  }
  if (connection.secret === undefined) {
    const cert = connection.identityFiles?.cert ?? values.cert;
    return cert !== undefined
      ? { kind: 'certificate', description: `the client certificate ${cert}` }
      : { kind: 'none', description: 'no credential (none of --secret-file, DBGRELAY_SECRET, a secret@ in the URL, --token-file, DBGRELAY_TOKEN)' };
  }
  // A direct endpoint (resolveDirectConnection): the URL's secret@ first, never the data directory's.
  if (directUrl !== undefined && values.secretFile === undefined && /^[a-z]+:\/\/[^/]*@/i.test(directUrl))
    return { kind: 'secret', description: 'the secret@ in the endpoint URL' };
  if (values.secretFile !== undefined) return { kind: 'secret', description: `the secret in --secret-file ${values.secretFile}` };
  if (connection.endpoint.secret !== undefined && connection.secret === connection.endpoint.secret) {
    return { kind: 'secret', description: `the secret@ in the ${values.relay !== undefined ? '--relay' : 'DBGRELAY_RELAY'} URL` };
  }
  if (env['DBGRELAY_SECRET']) return { kind: 'secret', description: 'the secret in DBGRELAY_SECRET' };
  return { kind: 'secret', description: `the local relay's secret ${join(clientDataDir(env), 'secret')}` };
}
