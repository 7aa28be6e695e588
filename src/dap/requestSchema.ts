import { readFileSync } from 'node:fs';
import Ajv04Module from 'ajv-draft-04';
import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';

/**
 * Why a DAP request was refused: `field` is a JSON pointer into the request message
 * (`/arguments/breakpoints`; `''` for the message itself) and `message` says what was
 * expected there.
 */
export interface DapRequestSchemaError {
  readonly field: string;
  readonly message: string;
}

/**
 * Checks a client-to-adapter DAP request against the DAP specification's JSON schema
 * (src/dap/schema/debugAdapterProtocol.json) tightened by src/dap/schema/debugpySafe.json,
 * the shapes the schema allows but debugpy's pydevd cannot survive.
 *
 * A request whose `command` has a `<Command>Request` definition (e.g. `setBreakpoints` →
 * `SetBreakpointsRequest`) is checked whole against it; any other command (debugpy's
 * own requests not listed in debugpySafe.json) only against the generic `Request`.
 * Validators compile on first use of each command and are cached for the process.
 *
 * Values are checked as parsed by `JSON.parse`: an integer field written `1.0` reads as
 * `1` here and passes; the agent's bridge (Python, where it is a float) refuses it.
 *
 * @returns `undefined` when the request is valid, else the first field that is not.
 * @see https://microsoft.github.io/debug-adapter-protocol/specification
 */
export function validateDapRequest(message: unknown): DapRequestSchemaError | undefined {
  const validate = validatorFor(message);
  if (validate(message)) return undefined;
  return describe(validate.errors?.[0]);
}

/** The requests of every session's first seconds (VS Code's attach and first stop). */
const firstRequests = [
  'initialize',
  'attach',
  'setBreakpoints',
  'setExceptionBreakpoints',
  'configurationDone',
  'threads',
  'stackTrace',
  'scopes',
  'variables',
  'continue',
  'next',
  'evaluate',
  'disconnect',
];

/**
 * Compiles the schema and the validators of the requests every session starts with,
 * so that no session pays for it (tens of milliseconds on first use). Idempotent.
 */
export function prepareDapRequestValidation(): void {
  for (const command of firstRequests) validatorFor({ command });
}

// draft-04 is the dialect the DAP schema declares; ajv-draft-04 is ajv with that
// dialect's meta-schema and keyword semantics (boolean exclusiveMinimum, `id`), so the
// file is used as published, `$schema` included.
const Ajv04 = Ajv04Module.default;
const SCHEMA_KEY = 'dap';
/** Annotation-only keywords of the DAP schema; strict mode refuses any other unknown keyword. */
const ANNOTATION_KEYWORDS = ['_enum', 'enumDescriptions'];
const REQUEST_DEFINITION = 'Request';

type JsonObject = Record<string, unknown>;

let ajv: InstanceType<typeof Ajv04> | undefined;
let definitionNames: ReadonlySet<string> = new Set();
const validators = new Map<string, ValidateFunction>();

function validatorFor(message: unknown): ValidateFunction {
  const schemaAjv = (ajv ??= createAjv());
  const definition = requestDefinitionName(message);
  let validate = validators.get(definition);
  if (!validate) {
    validate = schemaAjv.getSchema(`${SCHEMA_KEY}#/definitions/${definition}`);
    if (!validate) throw new Error(`DAP schema has no definition ${definition}`);
    validators.set(definition, validate);
  }
  return validate;
}

/** `<Command>Request` when the schema defines it, else the generic `Request`. */
function requestDefinitionName(message: unknown): string {
  const command = typeof message === 'object' && message !== null ? (message as JsonObject).command : undefined;
  if (typeof command !== 'string' || command.length === 0) return REQUEST_DEFINITION;
  const name = `${command[0]!.toUpperCase()}${command.slice(1)}Request`;
  return definitionNames.has(name) ? name : REQUEST_DEFINITION;
}

function createAjv(): InstanceType<typeof Ajv04> {
  const schema = debugpySafeSchema(readSchemaFile('debugAdapterProtocol.json'), readSchemaFile('debugpySafe.json'));
  // Strict: an unknown keyword (a typo, a new draft) fails compilation. Union types (the
  // DAP schema's `Request.arguments`) and a `required` name whose `properties` entry sits
  // in an `allOf` sibling (debugpySafe.json) are plain draft-04, not mistakes.
  // First error only: fastest.
  const instance = new Ajv04({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: false });
  instance.addVocabulary(ANNOTATION_KEYWORDS);
  instance.addSchema(schema, SCHEMA_KEY);
  definitionNames = new Set(Object.keys(schema.definitions as JsonObject));
  return instance;
}

function readSchemaFile(name: string): JsonObject {
  return JSON.parse(readFileSync(new URL(`./schema/${name}`, import.meta.url), 'utf8')) as JsonObject;
}

/**
 * The DAP schema with the debugpy-safe overlay applied, as debugpySafe.json describes:
 * overlay definitions the DAP schema has are added with `allOf`, the others are added,
 * and every integer node gets the overlay's `integerRange`.
 */
function debugpySafeSchema(dap: JsonObject, overlay: JsonObject): JsonObject {
  const definitions = { ...(dap.definitions as JsonObject) };
  for (const [name, extra] of Object.entries(overlay.definitions as JsonObject)) {
    definitions[name] = name in definitions ? { allOf: [definitions[name], extra] } : extra;
  }
  const { minimum, maximum } = overlay.integerRange as { minimum: number; maximum: number };
  return boundIntegers({ ...dap, definitions }, { minimum, maximum }) as JsonObject;
}

/** A copy of `node` where every schema object with `type: "integer"` also has `range`. */
function boundIntegers(node: unknown, range: { minimum: number; maximum: number }): unknown {
  if (Array.isArray(node)) return node.map((item) => boundIntegers(item, range));
  if (typeof node !== 'object' || node === null) return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) copy[key] = boundIntegers(value, range);
  if (copy.type === 'integer') Object.assign(copy, range);
  return copy;
}

function describe(error: ErrorObject | undefined): DapRequestSchemaError {
  if (!error) return { field: '', message: 'is not a valid DAP request' };
  const params = error.params as { missingProperty?: string; allowedValues?: unknown[] };
  if (error.keyword === 'required' && params.missingProperty !== undefined) {
    return { field: `${error.instancePath}/${escapePointer(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'enum' && params.allowedValues) {
    return { field: error.instancePath, message: `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { field: error.instancePath, message: error.message ?? `fails ${error.keyword}` };
}

/** RFC 6901 escaping of one JSON pointer segment. */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
