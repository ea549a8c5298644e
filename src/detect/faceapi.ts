/**
 * Loads @vladmandic/face-api on top of the project's single tfjs-core instance (see faceapi-hooks.ts
 * for the module redirects) and exposes only the two face detectors this project uses.
 */
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

/** The weights shipped inside the face-api package. */
export const FACE_API_MODEL_DIR = new URL('model/', import.meta.resolve('@vladmandic/face-api/package.json'));

export interface FaceApiDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface FaceApiNet<Options> {
  loadFromWeightMap(weightMap: tf.NamedTensorMap): void;
  locateFaces(input: tf.Tensor3D, options: Options): Promise<FaceApiDetection[]>;
  dispose(): void;
}

export interface SsdOptions {
  readonly minConfidence: number;
  readonly maxResults: number;
}

export interface TinyOptions {
  readonly inputSize: number;
  readonly scoreThreshold: number;
}

/** The slice of face-api's API used here, typed against tfjs-core rather than face-api's bundled tf types. */
export interface FaceApi {
  /** The tf namespace face-api runs on. */
  tf: { Tensor: unknown };
  SsdMobilenetv1: new () => FaceApiNet<SsdOptions>;
  TinyFaceDetector: new () => FaceApiNet<TinyOptions>;
  SsdMobilenetv1Options: new (opts: Partial<SsdOptions>) => SsdOptions;
  TinyFaceDetectorOptions: new (opts: Partial<TinyOptions>) => TinyOptions;
}

let faceApi: Promise<FaceApi> | undefined;

export function loadFaceApi(): Promise<FaceApi> {
  faceApi ??= importFaceApi();
  return faceApi;
}

async function importFaceApi(): Promise<FaceApi> {
  installChainedOps();
  // Node >= 20.6; the hooks only affect modules imported after this call.
  register(new URL('./faceapi-hooks.js', import.meta.url));
  const mod = (await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js')) as unknown as FaceApi;
  // A second tfjs-core copy would keep its own tensors and backend and fail in confusing ways later.
  if (mod.tf.Tensor !== tf.Tensor) throw new Error('face-api did not load on the project\'s tfjs-core');
  return mod;
}

/**
 * face-api calls a few ops as Tensor methods (`t.as4D(...)`, `t.div(255)`). Those methods are added to
 * the Tensor prototype by the side-effect import in the @tensorflow/tfjs umbrella package, which tfjs-core's
 * Node bundle lacks. These are the ones the SSD and Tiny detector paths use (found by tracing every
 * method access over the test photos), defined as tfjs-core's chained_ops define them. Existing
 * definitions are kept, so loading the umbrella package elsewhere changes nothing.
 */
function installChainedOps(): void {
  const methods: Record<string, (this: tf.Tensor, ...args: never[]) => tf.Tensor> = {
    as3D(this: tf.Tensor, rows: number, columns: number, depth: number) {
      return tf.reshape(this, [rows, columns, depth]);
    },
    as4D(this: tf.Tensor, rows: number, columns: number, depth: number, depth2: number) {
      return tf.reshape(this, [rows, columns, depth, depth2]);
    },
    div(this: tf.Tensor, b: tf.Tensor | tf.TensorLike) {
      return tf.div(this, b);
    },
    expandDims(this: tf.Tensor, axis?: number) {
      return tf.expandDims(this, axis);
    },
    reshape(this: tf.Tensor, shape: number[]) {
      return tf.reshape(this, shape);
    },
    slice(this: tf.Tensor, begin: number | number[], size?: number | number[]) {
      return tf.slice(this, begin, size);
    },
  };
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(methods)) {
    if (proto[name] !== undefined) continue;
    Object.defineProperty(proto, name, {
      value: function (this: tf.Tensor, ...args: never[]) {
        this.throwIfDisposed();
        return fn.apply(this, args);
      },
      writable: true,
      configurable: true,
    });
  }
}
