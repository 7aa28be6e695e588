import type { ChildProcess } from 'node:child_process';
import { forkModule } from './servers.js';
import type { WorkerCommand } from './swarmWorker.js';

/** A worker command without its id (distributive, so each command keeps its own fields). */
type Command = WorkerCommand extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never;

/** The load tool's worker processes (swarmWorker.ts), each driven by request and reply over IPC. */
export class WorkerPool {
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: Record<string, any>) => void>();
  readonly workers: ChildProcess[];

  constructor(count: number) {
    this.workers = Array.from({ length: count }, () => {
      const child = forkModule('swarmWorker');
      child.on('message', (reply: Record<string, any>) => {
        this.waiting.get(reply['id'])?.(reply);
        this.waiting.delete(reply['id']);
      });
      return child;
    });
  }

  /** Sends `command` to worker `index` and resolves with its reply. */
  ask(index: number, command: Command): Promise<Record<string, any>> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.workers[index]!.send({ ...command, id });
    });
  }

  /** Sends each worker its command (`commandFor(index)`) and resolves with every reply. */
  all(commandFor: (index: number) => Command): Promise<Array<Record<string, any>>> {
    return Promise.all(this.workers.map((_, index) => this.ask(index, commandFor(index))));
  }

  /** Ends every worker. */
  close(): void {
    for (const worker of this.workers) worker.kill('SIGTERM');
  }
}
