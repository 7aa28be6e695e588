import { credentialFromHello, parseHelloLine } from '../../src/listeners/helloLine.js';
import { helloReply } from '../../src/protocol/controlMessages.js';
import { check, within } from './contract.js';

/**
 * The tcps hello line (src/listeners/helloLine.ts, docs/protocol.md §4): the bytes up to
 * the newline, as the relay decodes them. Asserts: `parseHelloLine` gives a hello or
 * `BAD_REQUEST`/`PROTOCOL_VERSION`; `credentialFromHello` gives a credential, none, or
 * `BAD_REQUEST`; a refusal never quotes the line (it may carry a secret). The same
 * bytes as a hello reply (what the client parses) never make the schema throw.
 */
export function fuzz(data: Buffer): void {
  const newline = data.indexOf(0x0a);
  const line = (newline < 0 ? data : data.subarray(0, newline)).toString('utf8');
  let refusal: unknown;
  const hello = within(['BAD_REQUEST', 'PROTOCOL_VERSION'], 'parseHelloLine', () => {
    try {
      return parseHelloLine(line);
    } catch (error) {
      refusal = error;
      throw error;
    }
  });
  if (hello === undefined) {
    const message = (refusal as Error).message;
    check(line.length < 12 || !message.includes(line), 'a hello refusal quotes the line');
    return;
  }
  check(hello.dbgrelay === 1, 'a hello of another protocol version was accepted');
  const credential = within(['BAD_REQUEST'], 'credentialFromHello', () => credentialFromHello(hello));
  if (credential?.kind === 'secret') check(credential.secret.length > 0, 'an empty secret became a credential');
  if (credential?.kind === 'bearer') check(credential.token.length > 0, 'an empty token became a credential');
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch {
    return;
  }
  helloReply.safeParse(reply);
}
