import type { AcceptConnection, ServerChannel, Session } from 'ssh2';

/** What a user who runs `ssh relay` (a shell, a command, sftp) reads before the channel closes. */
export const sessionRefusalText = [
  'dbgrelay: this SSH server only accepts remote forwards that register debug targets:',
  '  ssh -N -R <target>:0:127.0.0.1:<debugpy port> -p <port> <relay host>',
  '',
].join('\r\n');

/**
 * Refuses a `session` channel politely: it is accepted only so that a `shell`,
 * `exec` or `subsystem` request can be answered with {@link sessionRefusalText} on
 * stderr and exit status 1; pty, env, X11 and agent requests are refused (ssh2 rejects
 * requests nobody listens for). Nothing ever runs.
 */
export function refuseSession(accept: AcceptConnection<Session>): void {
  const session = accept();
  const refuse = (acceptChannel: (() => ServerChannel) | undefined): void => {
    if (!acceptChannel) return;
    const channel = acceptChannel();
    channel.stderr.write(sessionRefusalText);
    channel.exit(1);
    channel.end();
  };
  session.on('shell', (acceptShell) => refuse(acceptShell));
  session.on('exec', (acceptExec) => refuse(acceptExec));
  session.on('subsystem', (acceptSubsystem) => refuse(acceptSubsystem));
}
