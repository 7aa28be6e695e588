/**
 * Flag values shared by the client commands (`attach`, `targets`, `doctor`), as commander
 * parses them; a client context fills in those neither a flag nor the environment gave.
 */
export interface ClientFlagValues {
  readonly relay?: string;
  readonly ca?: string;
  readonly fingerprint?: string[];
  readonly secretFile?: string;
  readonly tokenFile?: string;
  /** `--cert` of a command that also takes a client certificate: with it, no secret or token is needed (mTLS). */
  readonly cert?: string;
  /** `--key` of `--cert`. */
  readonly key?: string;
  /** `--context`: the named context of the client config file (else `DBGRELAY_CONTEXT`, else its current-context). */
  readonly context?: string;
}
