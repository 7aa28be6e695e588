/**
 * DAP's base protocol (`Content-Length` framing) for the load tool: the stand-in
 * debuggee that answers every request at once, and the request side of the
 * simulated clients.
 */

/** A DAP message as JSON text framed for the wire. */
export function frame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** Splits a byte stream into DAP message bodies, calling `onMessage` with each parsed one. */
export function deframer(onMessage: (message: Record<string, unknown>) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const headerEnd = pending.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length:\s*(\d+)/i.exec(pending.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (!Number.isFinite(length)) throw new Error('DAP header without Content-Length');
      const start = headerEnd + 4;
      if (pending.length < start + length) return;
      const body = pending.subarray(start, start + length).toString('utf8');
      pending = pending.subarray(start + length);
      onMessage(JSON.parse(body) as Record<string, unknown>);
    }
  };
}

/** Bodies the stand-in answers with, by command (an empty body otherwise). */
const answers: Record<string, object> = {
  initialize: { supportsConfigurationDoneRequest: true },
  threads: { threads: [{ id: 1, name: 'MainThread' }] },
};

/**
 * The stand-in debuggee: answers each request arriving through `receive` with a
 * successful response at once, written with `send`. What a simulated agent's data
 * connection and the nginx comparison's backend both run.
 */
export function standInDebuggee(send: (bytes: Buffer) => void): (chunk: Buffer) => void {
  let seq = 0;
  return deframer((message) => {
    if (message['type'] !== 'request') return;
    const command = String(message['command']);
    send(frame({ seq: ++seq, type: 'response', request_seq: message['seq'], success: true, command, body: answers[command] ?? {} }));
  });
}
