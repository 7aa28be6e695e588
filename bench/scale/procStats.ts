import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the load tool reads of a process from /proc: resident memory, CPU time
 * (user + system) and open descriptors, with its children for a server of several
 * processes (nginx's master and workers).
 */

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** The pid and its children's pids. */
function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(withChildren)];
  } catch {
    return [pid];
  }
}

/** Resident set size in bytes (of `pid` and its children). */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const one of withChildren(pid)) {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${one}/status`, 'utf8'))?.[1];
    total += Number(kb ?? 0) * 1024;
  }
  return total;
}

/** CPU seconds used so far, user and system (of `pid` and its children). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const one of withChildren(pid)) {
    const stat = readFileSync(`/proc/${one}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

/** Open file descriptors of `pid`. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
