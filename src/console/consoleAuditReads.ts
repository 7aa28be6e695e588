import type { AuditRecord } from '../audit/auditReader.js';
import type { ConsoleMetrics } from '../metrics/consoleMetrics.js';
import { auditPage, type ConsoleAuditFilter, type ConsoleAuditPage } from './consoleAudit.js';

/** Where and how much the audit view reads (config `audit.file`, `console.auditPageSize`, `console.auditScanMaxBytes`). */
export interface ConsoleAuditReadBounds {
  readonly file: string;
  readonly pageSize: number;
  readonly maxScanBytes: number;
}

/**
 * The audit view's reads of the audit log, one at a time: reading runs on the relay's
 * event loop, which also keeps every session's pause bound, so pages asked for while
 * one is read are refused (the page asks again), never queued.
 */
export class ConsoleAuditReads {
  private reading = false;

  constructor(
    private readonly bounds: ConsoleAuditReadBounds,
    private readonly metrics?: ConsoleMetrics,
  ) {}

  /** One page, or undefined when another read is under way. */
  async page(filter: ConsoleAuditFilter, visible: (record: AuditRecord) => boolean): Promise<ConsoleAuditPage | undefined> {
    if (this.reading) {
      this.metrics?.auditScans.labels('busy').inc();
      return undefined;
    }
    this.reading = true;
    const stats = { bytesRead: 0, malformed: 0 };
    try {
      const page = await auditPage(this.bounds.file, filter, this.bounds.pageSize, visible, { maxScanBytes: this.bounds.maxScanBytes, stats });
      this.metrics?.auditScans.labels(page.bounded ? 'bounded' : 'complete').inc();
      return page;
    } finally {
      this.reading = false;
      this.metrics?.auditScanBytes.inc(stats.bytesRead);
    }
  }
}
