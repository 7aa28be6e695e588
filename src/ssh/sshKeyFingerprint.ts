import { createHash } from 'node:crypto';

/**
 * The fingerprint of an SSH public key blob as OpenSSH prints it (`ssh-keygen -lf`,
 * `ssh`'s host key prompts): `SHA256:` and the unpadded base64 of the blob's SHA-256.
 */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The key type named at the start of a public key blob (`ssh-ed25519`, `ssh-rsa`,
 * `ecdsa-sha2-nistp256`, …): an SSH `string`, a uint32 length then the bytes
 * (RFC 4253 §6.6). `undefined` when the blob is not well formed.
 */
export function sshKeyType(keyBlob: Buffer): string | undefined {
  if (keyBlob.length < 4) return undefined;
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return undefined;
  const type = keyBlob.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** `ssh-ed25519 SHA256:…`: how a refusal names the key a host offered. */
export function describeHostKey(keyBlob: Buffer): string {
  return `${sshKeyType(keyBlob) ?? 'unknown-type'} ${sshFingerprint(keyBlob)}`;
}
