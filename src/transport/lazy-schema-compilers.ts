/**
 * Fastify's JSON-schema compilers, loaded on first use.
 *
 *   Fastify({ schemaController: lazySchemaCompilers(), ... })
 *
 * Fastify builds its default compilers (ajv and fast-json-stringify, ~2 MB and ~20 ms) when an
 * instance is created, even when no route declares a schema — and Mesh's routes declare none today.
 * These factories hand fastify the very same compilers, required only when a route with a schema is
 * first compiled, so the daemon starts without them. (Fastify then treats them as custom compilers,
 * which only changes how a `headers` schema's property names are matched: keep those lowercase.)
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Factories = Required<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>>;
type BuildValidator = Factories['buildValidator'];
type BuildSerializer = Factories['buildSerializer'];

/** `schemaController` option for Fastify() that defers loading the default schema compilers. */
export function lazySchemaCompilers(): { compilersFactory: Factories } {
  // Resolved from fastify's own location: they are fastify's dependencies, not ours.
  const fromFastify = createRequire(import.meta.resolve('fastify'));
  let validator: BuildValidator | undefined;
  let serializer: BuildSerializer | undefined;
  return {
    compilersFactory: {
      buildValidator: (...args) => {
        validator ??= (fromFastify('@fastify/ajv-compiler') as () => BuildValidator)();
        return validator(...args);
      },
      buildSerializer: (...args) => {
        serializer ??= (fromFastify('@fastify/fast-json-stringify-compiler') as () => BuildSerializer)();
        return serializer(...args);
      },
    },
  };
}
