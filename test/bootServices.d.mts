/** Boot services of some Debian packages: systemd unit names and SysV init script names. */
export interface BootServices {
  readonly units: readonly string[];
  readonly initScripts: readonly string[];
}

/** A link that starts `service` at boot. */
export interface BootLink {
  readonly service: string;
  readonly path: string;
}

/** Boot services of `packages` and of the installed packages built from the same Debian sources (systemd's own left out). */
export function bootServicesOf(packages: readonly string[]): BootServices;
/** The links that start `services` at boot; empty when none is enabled. */
export function bootLinksOf(services: BootServices): BootLink[];
/** Whether `unit` runs under a running systemd now. */
export function runningNow(unit: string): boolean;
/** Disables at boot every one of `services` that is enabled and not running now. */
export function disableAtBoot(services: BootServices): { disabled: string[]; left: string[] };
