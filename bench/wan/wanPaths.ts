import { startDelayProxy, type DelayProxy } from '../tools/delayProxy.js';
import { spawnListening } from '../tools/ports.js';
import { startAttachProcess, type RelayProcess } from '../tools/relayProcesses.js';
import { startSshTunnel } from '../tools/sshTunnel.js';
import { startDebuggee, venvPython } from '../../test/support/processes/debuggee.js';
import { waitForTargets } from '../../test/support/relay/relayClient.js';
import { wanApp } from './wanSession.js';

/** A local port a DAP client connects to, behind links whose delay follows the RTT under test. */
export interface WanPath {
  readonly label: string;
  readonly port: number;
}

/** Every path of the benchmark, and how to set the round-trip time on all their links at once. */
export interface WanPaths {
  readonly paths: readonly WanPath[];
  setRtt(rttMs: number): void;
}

const portOf = (url: string): number => Number(new URL(url.replace(/^(tcps|wss):/, 'https:')).port);

/**
 * Starts the paths of the benchmark (BENCHMARKS.md "Over a real network"), each link a
 * delay proxy:
 *
 * - stock debugpy (`debugpy.listen`) through `ssh -L`, the delay between `ssh` and `sshd`;
 * - the agent's debuggee (the one behind dbgrelay over tcps) through `ssh -L` the same way;
 * - dbgrelay over tcps and over wss, each with prefetch off (`--no-prefetch`) and on:
 *   `dbgrelay attach` → delay → relay ← delay ← agent, the RTT split between the two
 *   links by `relayShare` (the client–relay link's part).
 *
 * The relay, `dbgrelay attach` and the debuggees run as their own processes.
 */
export async function startWanPaths(relay: RelayProcess, relayShare: number, cleanups: Array<() => void | Promise<void>>): Promise<WanPaths> {
  const proxies: Array<{ proxy: DelayProxy; share: number }> = [];
  const delayed = async (targetPort: number, share: number): Promise<DelayProxy> => {
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort, upstreamDelayMs: 0, downstreamDelayMs: 0 });
    cleanups.push(() => proxy.close());
    proxies.push({ proxy, share });
    return proxy;
  };
  const paths: WanPath[] = [];

  const stock = await spawnListening(venvPython, [wanApp, 'stock'], /ADAPTER_PORT (\d+)/);
  cleanups.push(() => void stock.child.kill('SIGKILL'));
  const stockSsh = await startSshTunnel(stock.port, async (sshdPort) => (await delayed(sshdPort, 1)).port);
  cleanups.push(stockSsh.stop);
  paths.push({ label: 'stock debugpy, ssh -L', port: stockSsh.localPort });

  const access = { relayUrl: relay.tcpsUrl, caFile: relay.caFile, secret: relay.secret };
  for (const scheme of ['tcps', 'wss'] as const) {
    const relayPort = portOf(scheme === 'tcps' ? relay.tcpsUrl : relay.wssUrl);
    const agentLink = await delayed(relayPort, 1 - relayShare);
    const clientLink = await delayed(relayPort, relayShare);
    const name = `wan-${scheme}`;
    const debuggee = startDebuggee({
      relayUrl: `${scheme}://127.0.0.1:${agentLink.port}`,
      name,
      secret: relay.secret,
      caFile: relay.caFile,
      script: wanApp,
      scriptArgs: ['agent'],
    });
    cleanups.push(() => debuggee.kill());
    const adapterLine = await debuggee.waitForOutput(/debugpy adapter listening on 127\.0\.0\.1:(\d+)/);
    await waitForTargets(access, (targets) => targets.some((t) => t.name === name));
    if (scheme === 'tcps') {
      const adapterPort = Number(/:(\d+)/.exec(adapterLine)![1]);
      const agentSsh = await startSshTunnel(adapterPort, async (sshdPort) => (await delayed(sshdPort, 1)).port);
      cleanups.push(agentSsh.stop);
      paths.push({ label: "agent's debuggee, ssh -L", port: agentSsh.localPort });
    }
    for (const prefetch of [false, true]) {
      const attach = await startAttachProcess(relay, `${scheme}://127.0.0.1:${clientLink.port}`, name, prefetch ? [] : ['--no-prefetch']);
      cleanups.push(() => attach.stop());
      paths.push({ label: `dbgrelay ${scheme}${prefetch ? '' : ', prefetch off'}`, port: attach.port });
    }
  }

  return {
    paths,
    setRtt: (rttMs) => {
      for (const { proxy, share } of proxies) proxy.setDelays((rttMs * share) / 2, (rttMs * share) / 2);
    },
  };
}
