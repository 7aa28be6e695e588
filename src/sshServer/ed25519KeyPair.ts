import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { RelayError } from '../common/relayError.js';

/** An Ed25519 key pair in the OpenSSH file formats. */
export interface OpenSshKeyPair {
  /** The private key file text (`-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted). */
  readonly private: string;
  /** The public key line: `ssh-ed25519 AAAA… comment`. */
  readonly public: string;
}

const keyType = Buffer.from('ssh-ed25519');

/** DER of an Ed25519 PKCS#8 private key before its 32-byte seed (RFC 8410). */
const pkcs8SeedPrefix = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER of an Ed25519 SubjectPublicKeyInfo before its 32-byte public key (RFC 8410). */
const spkiKeyPrefix = Buffer.from('302a300506032b6570032100', 'hex');

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** An SSH wire `string`: uint32 length, then the bytes. */
function sshString(bytes: Buffer): Buffer {
  return Buffer.concat([uint32(bytes.length), bytes]);
}

/**
 * Generates an Ed25519 key pair and encodes it as OpenSSH does (`openssh-key-v1`, no
 * cipher). The 32-byte public key is written whole, so the result always parses, with
 * ssh2's `utils.parseKey` as with `ssh-keygen`. The seed comes from `randomBytes` and
 * node:crypto derives the public key from it: Node 20's `generateKeyPairSync` can
 * deadlock when a key it made is exported as JWK while the garbage collector frees the
 * job that made it, so neither is used.
 */
export function generateEd25519KeyPair(comment = ''): OpenSshKeyPair {
  const seed = randomBytes(32);
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8SeedPrefix, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (spki.length !== spkiKeyPrefix.length + 32 || !spki.subarray(0, spkiKeyPrefix.length).equals(spkiKeyPrefix)) {
    throw new RelayError('INTERNAL', 'node:crypto returned an Ed25519 public key of unexpected form');
  }
  const pub = spki.subarray(spkiKeyPrefix.length);
  const publicBlob = Buffer.concat([sshString(keyType), sshString(pub)]);
  const check = randomBytes(4);
  const section = Buffer.concat([check, check, sshString(keyType), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(Buffer.from(comment))]);
  // Padded with 1, 2, 3, … to the cipher block size, 8 for "none".
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString(Buffer.from('none')),
    sshString(Buffer.from('none')),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `ssh-ed25519 ${publicBlob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`,
  };
}
