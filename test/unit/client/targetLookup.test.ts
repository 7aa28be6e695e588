import { describe, expect, it } from 'vitest';
import { cursorBefore } from '../../../src/client/targetLookup.js';
import { launchConfiguration } from '../../../src/cli/attachCommand.js';
import { formatLabels, formatTargetsTable, inDisplayOrder } from '../../../src/cli/targetsCommand.js';
import { targetNamePattern } from '../../../src/protocol/targetName.js';

describe('the cursor just before a target name', () => {
  it.each(['web-1', 'a', 'Z9', 'web.1_x', 'web-'])('sorts before %s and after every other valid name that sorts before it', (name) => {
    const cursor = cursorBefore(name)!;
    expect(cursor < name).toBe(true);
    // names that sort just below `name`: every one must also sort at or below the cursor
    const below = [
      name.slice(0, -1),
      `${name.slice(0, -1)}${String.fromCharCode(name.charCodeAt(name.length - 1) - 1)}zzzz`,
      `${name.slice(0, -1)}${String.fromCharCode(name.charCodeAt(name.length - 1) - 1)}`,
    ];
    for (const other of below.filter((n) => n.length > 0 && targetNamePattern.test(n) && n < name)) expect(other <= cursor).toBe(true);
  });

  it('has none for an empty name', () => {
    expect(cursorBefore('')).toBeUndefined();
  });
});

describe('the printed launch configuration and listing', () => {
  it('maps the workspace to the remote root given, "." when none is', () => {
    expect(launchConfiguration('web-1', '127.0.0.1', 5678, '/srv/web')).toMatchObject({ pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '/srv/web' }] });
    expect(launchConfiguration('web-1', '127.0.0.1', 5678)).toMatchObject({ pathMappings: [{ remoteRoot: '.' }] });
  });

  it('lists the root of each target', () => {
    const base = { labels: {}, host: 'h', transport: 'tcps', connectedAt: 'now', sessions: 0 } as const;
    const table = formatTargetsTable([
      { ...base, name: 'web-1', root: '/srv/web' },
      { ...base, name: 'web-2' },
    ]);
    const [header, first, second] = table.trimEnd().split('\n');
    expect(header).toMatch(/ROOT$/);
    expect(first).toMatch(/\/srv\/web$/);
    expect(second).toMatch(/ -$/);
  });

  it("shows a group's members right after it, registered group or not, and labels sorted by key", () => {
    const base = { labels: {}, host: 'h', transport: 'tcps', connectedAt: 'now', sessions: 0 } as const;
    const names = ['web-1-canary', 'web-1/456', 'api', 'web-1', 'web-1/123', 'jobs/9', 'jobs-x'];
    expect(inDisplayOrder(names.map((name) => ({ ...base, name }))).map((t) => t.name)).toEqual(['api', 'jobs/9', 'jobs-x', 'web-1', 'web-1/123', 'web-1/456', 'web-1-canary']);
    expect(formatLabels({ worker: '12', server: 'gunicorn' })).toBe('server=gunicorn,worker=12');
    expect(formatLabels({})).toBe('-');
  });
});
