import type { z } from 'zod';

/** The parts of zod's schema definitions this walk reads (zod 4 `_zod.def`). */
interface SchemaDefinition {
  readonly type: string;
  readonly shape?: Record<string, z.core.$ZodType>;
  readonly innerType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
  readonly valueType?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly options?: readonly z.core.$ZodType[];
  readonly left?: z.core.$ZodType;
  readonly right?: z.core.$ZodType;
  readonly getter?: () => z.core.$ZodType;
}

/** Bound on wrappers and branches followed, so a recursive (lazy) schema cannot loop. */
const maxSteps = 200;

function definition(schema: z.core.$ZodType): SchemaDefinition {
  return schema._zod.def as unknown as SchemaDefinition;
}

/** The object schemas `schema` may be at this level, through optional, default, pipe, union and similar wrappers. */
function objectsOf(schema: z.core.$ZodType, budget: { steps: number }): SchemaDefinition[] {
  if (budget.steps-- <= 0) return [];
  const def = definition(schema);
  if (def.type === 'object') return [def];
  if (def.type === 'lazy' && def.getter) return objectsOf(def.getter(), budget);
  const inner = def.innerType ?? def.in;
  if (inner !== undefined) return objectsOf(inner, budget);
  const branches = [...(def.options ?? []), ...(def.left ? [def.left] : []), ...(def.right ? [def.right] : [])];
  return branches.flatMap((branch) => objectsOf(branch, budget));
}

/** The schema one level down: `segment` of an object, or a record's value, or a list's item. */
function childrenOf(schema: z.core.$ZodType, segment: PropertyKey, budget: { steps: number }): z.core.$ZodType[] {
  if (budget.steps-- <= 0) return [];
  const def = definition(schema);
  if (def.type === 'object') {
    const child = typeof segment === 'string' ? def.shape?.[segment] : undefined;
    return child !== undefined ? [child] : [];
  }
  if (def.type === 'record' && def.valueType) return [def.valueType];
  if (def.type === 'array' && def.element) return [def.element];
  if (def.type === 'lazy' && def.getter) return childrenOf(def.getter(), segment, budget);
  const inner = def.innerType ?? def.in;
  if (inner !== undefined) return childrenOf(inner, segment, budget);
  const branches = [...(def.options ?? []), ...(def.left ? [def.left] : []), ...(def.right ? [def.right] : [])];
  return branches.flatMap((branch) => childrenOf(branch, segment, budget));
}

/**
 * The keys the schema knows at `path` (the object there, through wrappers, records and
 * lists), for a "did you mean" on an unknown key. Empty when the path leads to no object.
 */
export function schemaKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const budget = { steps: maxSteps };
  let level: z.core.$ZodType[] = [schema];
  for (const segment of path) level = level.flatMap((s) => childrenOf(s, segment, budget));
  const keys = new Set<string>();
  for (const object of level.flatMap((s) => objectsOf(s, budget))) for (const key of Object.keys(object.shape ?? {})) keys.add(key);
  return [...keys];
}
