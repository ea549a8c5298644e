/**
 * Module resolution hooks (registered with node:module `register`) that let face-api's
 * `dist/face-api.esm-nobundle.js` run on the project's own tfjs packages.
 *
 * That build imports `@tensorflow/tfjs/dist/index.js` (the umbrella package, not installed here),
 * `@tensorflow/tfjs-backend-webgl/dist/index.js` (not installed, useless in Node) and
 * `@tensorflow/tfjs-backend-wasm/dist/index.js` (an ES module inside a CommonJS package, which Node
 * refuses to load). Each is pointed at what the project already loads, so face-api and the project
 * share one module instance of tfjs-core and therefore one engine, one backend and one kernel registry.
 * Only imports made from inside face-api are touched.
 */
import type { ResolveHook } from 'node:module';

const REDIRECTS: Readonly<Record<string, string>> = {
  // face-api only calls ops that tfjs-core exports; the rest of the umbrella (converter, data, layers) is unused.
  '@tensorflow/tfjs/dist/index.js': '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm/dist/index.js': '@tensorflow/tfjs-backend-wasm',
};

const EMPTY_MODULE = 'data:text/javascript,export{}';

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (context.parentURL?.includes('/node_modules/@vladmandic/face-api/')) {
    if (specifier === '@tensorflow/tfjs-backend-webgl/dist/index.js') {
      return { url: EMPTY_MODULE, shortCircuit: true };
    }
    const target = REDIRECTS[specifier];
    if (target !== undefined) return nextResolve(target, context);
  }
  return nextResolve(specifier, context);
};
