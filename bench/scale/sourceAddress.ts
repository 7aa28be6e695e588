/**
 * The loopback source address of simulated agent or client number `index`: 16 per
 * address, as 16 processes of one host would share it, so that the relay's
 * per-source bounds see a fleet rather than one machine. `firstOctet` keeps agents
 * and clients apart (127.1.x.y and 127.101.x.y).
 */
export function sourceAddress(index: number, firstOctet: number): string {
  const host = Math.floor(index / 16);
  return `127.${firstOctet + Math.floor(host / 62_500)}.${Math.floor(host / 250) % 250}.${1 + (host % 250)}`;
}
