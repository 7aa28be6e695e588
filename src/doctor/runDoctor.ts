import type { RelayError } from '../common/relayError.js';
import type { ClientIdentity } from '../dial/clientIdentity.js';
import type { RelayEndpoint } from '../dial/relayEndpoint.js';
import type { TlsTrust } from '../dial/tlsTrust.js';
import { checkAgentCredential } from './agentCredentialCheck.js';
import { checkClock, checkToken } from './clockChecks.js';
import { checkCredential, checkTarget } from './credentialCheck.js';
import { checkResult, type DoctorCheckName, type DoctorCheckResult } from './doctorCheck.js';
import { checkDns, checkProxy, checkTcp } from './networkChecks.js';
import { checkTls } from './tlsChecks.js';

/** What `dbgrelay doctor` checks: the way to one relay, with one credential. */
export interface DoctorOptions {
  readonly endpoint: RelayEndpoint;
  readonly trust: TlsTrust;
  readonly identity?: ClientIdentity;
  readonly secret?: string;
  readonly token?: string;
  /** Where the credential came from (`--secret-file PATH`, `DBGRELAY_TOKEN`, ...), never its value. */
  readonly credentialSource: string;
  /** Why there is no credential to check (`CONFIG_INVALID`): the credential check fails with it, the others still run. */
  readonly credentialProblem?: RelayError;
  /**
   * `client`: the credential is checked with the target list. `agent`: an agent's
   * credential, which may not list targets: it opens the agent's control connection
   * (where the relay authenticates it) and closes it before registering.
   */
  readonly role: 'client' | 'agent';
  /** A target to check attaching to (`--target`): the relay's attach check, which also takes a target's attach secret. */
  readonly target?: string;
  /** Bound on each network step (DNS excepted). */
  readonly timeoutMs: number;
  /** Clock skew past which the clock check warns. */
  readonly maxClockSkewMs: number;
  /** Where `HTTPS_PROXY`/`NO_PROXY` are read from. */
  readonly env: NodeJS.ProcessEnv;
  /** The fix for a refused credential. */
  readonly adviseRefusal: (error: RelayError) => string | undefined;
}

function skipped(check: DoctorCheckName, because: DoctorCheckName): DoctorCheckResult {
  return checkResult(check, 'skip', `not run: the ${because} check failed`);
}

/**
 * Runs the checks in order: proxy, DNS, TCP connect (to the proxy when there is one),
 * TLS chain and trust, clock skew, the token's claims, with a target the relay's
 * attach check, and the credential with the relay (an agent's: its control connection).
 * A failed network step skips those that need it; the token's claims are decoded
 * regardless, and a missing credential fails its check without stopping the others. Never throws for a failed check: each result says what to do.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheckResult[]> {
  const { endpoint } = options;
  const results: DoctorCheckResult[] = [];
  const { result: proxyResult, proxy } = checkProxy(endpoint, options.env);
  results.push(proxyResult);
  let failed: DoctorCheckName | undefined = proxyResult.status === 'fail' ? 'proxy' : undefined;

  const dialed = proxy ?? endpoint;
  const what = proxy ? 'the proxy' : 'the relay';
  const dns = failed ? skipped('dns', failed) : await checkDns(dialed.host, proxy !== undefined);
  results.push(dns);
  if (dns.status === 'fail') failed = 'dns';
  const tcp = failed ? skipped('tcp', failed) : await checkTcp(dialed.host, dialed.port, options.timeoutMs, what);
  results.push(tcp);
  if (tcp.status === 'fail') failed = 'tcp';
  const tls = failed ? skipped('tls', failed) : await checkTls(endpoint, options.trust, options.timeoutMs, options.identity, proxy);
  results.push(tls);
  if (tls.status === 'fail') failed = 'tls';

  let skewMs: number | undefined;
  if (failed) results.push(skipped('clock', failed));
  else {
    const clock = await checkClock(endpoint, options.timeoutMs, proxy, options.maxClockSkewMs);
    results.push(clock.result);
    skewMs = clock.skewMs;
  }
  if (options.token !== undefined) results.push(checkToken(options.token, options.credentialSource, skewMs));

  const dial = {
    endpoint,
    trust: options.trust,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.token !== undefined ? { token: options.token } : options.secret !== undefined ? { secret: options.secret } : {}),
    timeoutMs: options.timeoutMs,
    env: options.env,
  };
  if (options.credentialProblem !== undefined) {
    if (options.target !== undefined) results.push(checkResult('target', 'skip', 'not run: there is no credential to present'));
    results.push(
      checkResult('credential', 'fail', options.credentialProblem.message, {
        code: options.credentialProblem.code,
        fix: options.adviseRefusal(options.credentialProblem),
      }),
    );
  } else if (failed) results.push(skipped('credential', failed));
  else if (options.role === 'agent') results.push(await checkAgentCredential(dial, options.credentialSource, options.adviseRefusal));
  else {
    const target = options.target !== undefined ? await checkTarget(dial, options.target, options.credentialSource, options.adviseRefusal) : undefined;
    if (target) results.push(target);
    // A secret the attach check admitted may be a target's attach secret, which may attach but not list:
    // the relay would refuse the listing and count it as a failed attempt (lockout), so it is not asked.
    const admittedSecret = target?.status === 'ok' && options.secret !== undefined;
    results.push(
      admittedSecret
        ? checkResult(
            'credential',
            'ok',
            `${options.credentialSource} is accepted for attaching to ${options.target}; the target list was not asked (a target's attach secret may not list, and a refused listing counts as a failed attempt)`,
          )
        : await checkCredential(dial, options.credentialSource, options.adviseRefusal),
    );
  }
  return results;
}
