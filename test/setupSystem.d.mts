/** Binary the tests run, and the Debian package that provides it. */
export const systemTools: readonly { readonly binary: string; readonly pkg: string }[];
