/**
 * The fuzz targets, by the name of their module (`fuzz/targets/<name>.fuzz.ts`), their
 * corpus directory and `npm run fuzz -- --targets=<name>`. The order is the selector
 * byte of the combined target (all.fuzz.ts): keep it, or old corpora of `all` mean
 * other inputs.
 */
export const targetNames = ['dapFramer', 'helloLine', 'controlChannel', 'upgradeRequest', 'authorization', 'relayUrl', 'config'] as const;
export type TargetName = (typeof targetNames)[number];
