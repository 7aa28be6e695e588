import { credentialFromAuthorization } from '../../src/auth/credentialParser.js';
import { credentialFromHello } from '../../src/listeners/helloLine.js';
import { check, within } from './contract.js';

/**
 * The `Authorization` header (src/auth/credentialParser.ts, docs/protocol.md §2), as
 * Node hands it on (Latin-1, no CR/LF/NUL). Asserts: a credential, none, or
 * `AUTH_FAILED`; a secret or token is never empty and never carries whitespace a
 * proxy could have added; the secret of `Basic base64("<secret>:")` is `<secret>`; a
 * hello line carrying the same token gives the same credential.
 */
export function fuzz(data: Buffer): void {
  const header = data.toString('latin1').replace(/[\r\n\0]/g, '');
  const credential = within(['AUTH_FAILED'], 'credentialFromAuthorization', () => credentialFromAuthorization(header));
  if (credential === undefined) return;
  if (credential.kind === 'bearer') {
    check(credential.token !== '' && !/\s/.test(credential.token), 'a bearer token that is empty or has whitespace');
    const fromHello = credentialFromHello({ dbgrelay: 1, op: 'targets', token: credential.token });
    check(fromHello?.kind === 'bearer' && fromHello.token === credential.token, 'a token read differently from a hello line');
    return;
  }
  check(credential.secret !== '', 'an empty secret became a credential');
  // Round trip: the secret, sent the way a `wss://<secret>@host/` URL sends it.
  if (!credential.secret.includes(':') && !credential.secret.includes('\ufffd')) {
    const again = credentialFromAuthorization(`Basic ${Buffer.from(`${credential.secret}:`, 'utf8').toString('base64')}`);
    check(again?.kind === 'secret' && again.secret === credential.secret, 'a secret did not survive a Basic round trip');
  }
}
