/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), each route's
 * code generated on its first request instead of when the server starts.
 *
 * Why: fastify compiles every route's schemas at start-up, and the generated code (its source text,
 * bytecode and closures) stays in the daemon's heap for good. Most routes of a given daemon are
 * never called (the dashboard's, the slice owner's, the OpenAPI's). A heap snapshot of an idle
 * daemon found 29 compiled serializers and 12 validators: ~310 KB of generated source text alone,
 * plus its bytecode, against the 60 MiB a daemon may use (issue 3).
 * Validation and serialization are unchanged, only their timing moves; a schema that does not
 * compile still fails loudly, on the first request of its route (every route has an API test).
 *
 * The price is the first request's latency: under the daemon's interpreter-only V8 (`--jitless`,
 * cli/daemon-tuning.ts) compiling a route's schemas takes ~30-50 ms. That does not matter for a
 * person, but it does for the routes every monitor polls (`cluster status`, the benchmarks): when
 * a hundred daemons on two cores answer their first poll at once, the compiles queue up for
 * seconds. Those few routes are compiled at start-up (`eager`).
 */
import ValidatorSelector from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorBuilder = NonNullable<CompilersFactory['buildValidator']>;
type SerializerBuilder = NonNullable<CompilersFactory['buildSerializer']>;

/** A validate function whose code is made by `compile` on the first call; Ajv's `errors` pass through. */
function lazyValidator(compile: () => (data: unknown) => unknown): (data: unknown) => unknown {
  let validate: ((data: unknown) => unknown) & { errors?: unknown };
  const lazy = (data: unknown): unknown => {
    validate ??= compile();
    const result = validate(data);
    // fastify reads the errors of a failed validation from the function it was given.
    lazy.errors = validate.errors;
    return result;
  };
  lazy.errors = undefined as unknown;
  return lazy;
}

function lazySerializer(compile: () => (data: unknown) => string): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | undefined;
  return (data) => (serialize ??= compile())(data);
}

/** What fastify gives a compiler for one schema of one route. */
interface RouteSchema {
  readonly url: string;
}

/**
 * The `schemaController.compilersFactory` server option. `eager(url)` names the routes compiled
 * at start-up as fastify would (default: none).
 */
export function lazySchemaCompilers(eager: (url: string) => boolean = () => false): { buildValidator: ValidatorBuilder; buildSerializer: SerializerBuilder } {
  const validators = ValidatorSelector();
  const serializers = SerializerSelector();
  const buildValidator = ((externalSchemas: unknown, ajvOptions: unknown) => {
    const compile = (validators as (s: unknown, o: unknown) => (route: unknown) => (data: unknown) => unknown)(externalSchemas, ajvOptions);
    return (route: RouteSchema) => (eager(route.url) ? compile(route) : lazyValidator(() => compile(route)));
  }) as unknown as ValidatorBuilder;
  const buildSerializer = ((externalSchemas: unknown, serializerOptions: unknown) => {
    const compile = (serializers as (s: unknown, o: unknown) => (route: unknown) => (data: unknown) => string)(externalSchemas, serializerOptions);
    return (route: RouteSchema) => (eager(route.url) ? compile(route) : lazySerializer(() => compile(route)));
  }) as unknown as SerializerBuilder;
  return { buildValidator, buildSerializer };
}
