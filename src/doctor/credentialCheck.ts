import { RelayError } from '../common/relayError.js';
import { checkAttachAdmission } from '../dial/relayDialer.js';
import { fetchTargetPage } from '../dial/relayTargetList.js';
import type { RelayDialOptions } from '../dial/relayRequests.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** How many target names the credential check shows. */
const shownTargets = 10;
/** The page the credential check asks for: enough to say what the credential sees. */
const checkPageLimit = 50;

/**
 * Asks the relay whether this credential's session with `target` would be admitted now
 * (the attach check, docs/protocol.md §3, revision 1.14), opening nothing: the
 * credential (a target's attach secret too), its grants, the target connected and not
 * busy with another principal. Skipped over tcps and with a relay before 1.14.
 */
export async function checkTarget(options: RelayDialOptions, target: string, describe: string, advise: (error: RelayError) => string | undefined): Promise<DoctorCheckResult> {
  try {
    const { verdict } = await checkAttachAdmission({ ...options, target });
    if (verdict === 'unsupported')
      return checkResult('target', 'skip', `the relay cannot answer an attach check here (tcps, or a relay before 1.14): dbgrelay attach ${target} checks what it can`);
    return checkResult('target', 'ok', `a session with ${target} would be admitted now (${describe})`, { details: { target } });
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    if (error.code === 'NOT_FOUND') return checkResult('target', 'skip', 'the attach check is not answered at this URL (a front end that forwards only some paths?)');
    return checkResult('target', 'fail', error.message, { code: error.code, fix: advise(error), details: { target, source: describe } });
  }
}

/**
 * Presents the credential to the relay with one page of the target list (docs/protocol.md
 * §7): accepted, and which targets it may see (all for the relay secret or `admin`,
 * those its `attach:` scopes cover otherwise). `describe` says where the credential
 * came from; `advise` names the fix for a refusal.
 */
export async function checkCredential(options: RelayDialOptions, describe: string, advise: (error: RelayError) => string | undefined): Promise<DoctorCheckResult> {
  try {
    const page = await fetchTargetPage(options, { limit: checkPageLimit });
    const names = page.targets.map((target) => target.name);
    const count = page.next !== undefined ? `${names.length}+` : String(names.length);
    const listed = names.length === 0 ? '' : `: ${names.slice(0, shownTargets).join(', ')}${names.length > shownTargets || page.next !== undefined ? ', ...' : ''}`;
    return checkResult('credential', 'ok', `${describe} is accepted; it may see ${count} connected target(s)${listed}`, {
      details: { source: describe, targets: names, more: page.next !== undefined },
    });
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    return checkResult('credential', 'fail', error.message, { code: error.code, fix: advise(error), details: { source: describe } });
  }
}
