/**
 * Default bound on one DAP message (its body; the `Content-Length`), in bytes: the
 * relay's `dap.maxMessageBytes` default, the bound of `dbgrelay attach` unless
 * `--max-message-bytes` says otherwise, and the agent's `DEFAULT_MAX_MESSAGE_BYTES`
 * (agent-py/dbgrelay/dapframing.py; test/fixtures/dapBoundVectors.json holds the value
 * both languages' tests check). 16 MiB leaves ample room for large `variables`,
 * `source` or `readMemory` responses while keeping small what one peer can make a
 * session buffer.
 */
export const defaultMaxDapMessageBytes = 16 * 1024 * 1024;

/** Smallest bound on one DAP message that may be configured: every real request fits in it. */
export const minMaxDapMessageBytes = 1024;

/** Largest bound on one DAP message that may be configured (1 GiB). */
export const maxMaxDapMessageBytes = 1024 * 1024 * 1024;
