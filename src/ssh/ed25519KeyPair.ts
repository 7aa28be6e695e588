import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** An Ed25519 key pair in the OpenSSH file formats. */
export interface OpenSshKeyPair {
  /** The private key file text (`-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted). */
  readonly private: string;
  /** The public key line: `ssh-ed25519 AAAA… comment`. */
  readonly public: string;
}

const keyType = Buffer.from('ssh-ed25519');

/** An SSH wire `string`: uint32 length, then the bytes. */
function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/**
 * Generates an Ed25519 key pair with node:crypto and encodes it as OpenSSH does
 * (`openssh-key-v1`, no cipher). The 32-byte public key is written whole, so the
 * result always parses, with ssh2's `utils.parseKey` as with `ssh-keygen`.
 */
export function generateEd25519KeyPair(comment = ''): OpenSshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  if (seed.length !== 32 || pub.length !== 32) throw new Error('node:crypto returned an Ed25519 key of unexpected size');
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
