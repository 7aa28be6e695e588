import type { PtvsdTargetChoice } from './ptvsdTarget.js';

/** What the `/ptvsd` info page reports. Holds no credential: the page never shows one. */
export interface PtvsdPageFacts {
  /** The request's `Host` header (shown only when it is a plain host[:port]). */
  readonly host: string | undefined;
  readonly choice: PtvsdTargetChoice;
  /** Whether the chosen target is connected right now. */
  readonly connected: boolean;
}

const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

const entities: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
}

/** The VS Code `launch.json` attach configuration for `dbgrelay attach`'s local port. */
function launchJson(port: number): string {
  const configuration = {
    name: 'Attach (dbgrelay /ptvsd)',
    type: 'debugpy',
    request: 'attach',
    connect: { host: '127.0.0.1', port },
    pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '.' }],
  };
  return JSON.stringify(configuration, null, 2);
}

function targetStatus(facts: PtvsdPageFacts): string {
  const { choice } = facts;
  if (choice.target === undefined) return `No default target: ${choice.problem}.`;
  const state = facts.connected ? 'connected' : 'not connected right now';
  const how = choice.how === 'configured' ? 'ptvsd.defaultTarget' : 'the only connected target';
  return `Default target: ${choice.target} (${how}), ${state}.`;
}

/**
 * The HTML page a plain `GET /ptvsd` answers with: that the debugging proxy is
 * configured, which target `/ptvsd` sessions go to and whether it is connected, and
 * how to attach (the `wss://<secret>@<site>/ptvsd` URL, `dbgrelay attach`, a VS Code
 * configuration). Every interpolated value is escaped; no secret is ever shown.
 */
export function renderPtvsdInfoPage(facts: PtvsdPageFacts): string {
  const site = facts.host !== undefined && hostPattern.test(facts.host) ? facts.host : '<site>';
  const url = `wss://<secret>@${site}/ptvsd`;
  const port = 5678;
  const e = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>dbgrelay: Python remote debugging</title>
<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}pre{background:#f4f4f4;padding:.6em;overflow-x:auto}</style></head>
<body>
<h1>dbgrelay: Python remote debugging (ptvsd endpoint)</h1>
<p><strong>The debugging proxy is configured.</strong> ${e(targetStatus(facts))}</p>
<h2>Attach</h2>
<p>This endpoint takes a WebSocket upgrade with a credential: the relay secret or the
target's attach secret as the user name of the URL (HTTP Basic), or a bearer token (JWT).
The credential is never part of a query string, and this page never shows it.</p>
<pre>${e(url)}</pre>
<p>1. On your machine, open a local debug port with <code>dbgrelay attach</code> (the secret
percent-encoded; keeping the URL in the environment keeps it out of the process list):</p>
<pre>export DBGRELAY_RELAY=${e(`'${url}'`)}
dbgrelay attach --port ${port}</pre>
<p>or with a token file instead of a secret:
<code>dbgrelay attach --relay ${e(`wss://${site}/ptvsd`)} --token-file token.jwt --port ${port}</code></p>
<p>2. Attach VS Code to that port (<code>.vscode/launch.json</code>):</p>
<pre>${e(launchJson(port))}</pre>
<p>Attaching lets you run any code in the debugged process: keep the secret as safe as a
root password.</p>
</body>
</html>
`;
}
