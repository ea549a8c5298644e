import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
// Both backends register themselves on import; the engine picks wasm (priority 2) over cpu (priority 1).
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import type { FaceBox } from './boxes.js';
import type { DecodedImage } from './image.js';
import { FACE_API_MODEL_DIR, loadFaceApi } from './faceapi.js';
import type { FaceApi, FaceApiDetection, FaceApiNet, SsdOptions, TinyOptions } from './faceapi.js';

export type DetectorStrategy = 'chain' | 'ssd' | 'tiny';

export interface FaceDetectorLoadOptions {
  /** Folder with face-api's `*-weights_manifest.json` and `.bin` files; default: the package's own `model/`. */
  modelDir?: string | URL;
  /**
   * tfjs backend to switch the whole process to. Default: keep the backend the process already uses,
   * otherwise the best registered one that initialises (wasm, then cpu). The cpu backend is pure
   * JavaScript: SSD takes about 40 s per photo there against 0.3 s on wasm.
   */
  backend?: 'wasm' | 'cpu';
}

export interface DetectOptions {
  /** 'chain' (default) runs SSD MobileNet v1 and falls back to the Tiny Face Detector when SSD finds no face. */
  strategy?: DetectorStrategy;
  /** SSD faces must score above this; between 0 and 1 exclusive (face-api rejects the ends). */
  ssdMinScore?: number;
  /** Tiny Face Detector faces must score above this. */
  tinyMinScore?: number;
  /** Side of the square the Tiny detector resizes the image to; a multiple of 32. Larger finds smaller faces, slower. */
  tinyInputSize?: number;
  /**
   * Faces whose longer side is below this many pixels are dropped: the detectors' false positives on
   * the benchmark photos are all 9-16 px blobs, and such faces are too small to classify anyway.
   */
  minFaceSize?: number;
  /** At most this many faces, highest score first. */
  maxFaces?: number;
}

/**
 * Chosen with bench/detect-faces.ts on the dlib-annotated photos. SSD above 0.3 finds all 43 reference
 * faces (above 0.5 it misses a clear face scoring 0.45) and, once blobs under 20 px are dropped, nothing
 * else. Tiny at 608 finds the most faces; it only runs when SSD found none, so its cost rarely matters.
 */
export const DEFAULT_DETECT_OPTIONS: Readonly<Required<DetectOptions>> = {
  strategy: 'chain',
  ssdMinScore: 0.3,
  tinyMinScore: 0.3,
  tinyInputSize: 608,
  minFaceSize: 20,
  maxFaces: 100,
};

/**
 * Face detection with the pretrained detectors of @vladmandic/face-api, run offline on the project's
 * tfjs-core engine. Boxes are in pixels of the decoded (EXIF-rotated) image and may extend past its
 * border when a face is cut off by it.
 */
export class FaceDetector {
  private constructor(
    private readonly faceApi: FaceApi,
    private readonly ssd: FaceApiNet<SsdOptions>,
    private readonly tiny: FaceApiNet<TinyOptions>,
  ) {}

  static async load(opts: FaceDetectorLoadOptions = {}): Promise<FaceDetector> {
    await selectBackend(opts.backend);
    const faceApi = await loadFaceApi();
    const dir = opts.modelDir ?? FACE_API_MODEL_DIR;
    const ssd = new faceApi.SsdMobilenetv1();
    const tiny = new faceApi.TinyFaceDetector();
    ssd.loadFromWeightMap(await loadWeightMap(dir, 'ssd_mobilenetv1_model'));
    tiny.loadFromWeightMap(await loadWeightMap(dir, 'tiny_face_detector_model'));
    return new FaceDetector(faceApi, ssd, tiny);
  }

  /** All faces above the score threshold, highest score first. */
  async detect(image: DecodedImage, opts: DetectOptions = {}): Promise<FaceBox[]> {
    const o = { ...DEFAULT_DETECT_OPTIONS, ...opts };
    if (o.tinyInputSize % 32 !== 0) throw new Error(`tinyInputSize must be a multiple of 32, got ${o.tinyInputSize}`);
    const input = tf.tensor3d(image.rgb, [image.height, image.width, 3], 'int32');
    try {
      if (o.strategy !== 'tiny') {
        // face-api caps the count before the size filter below, so the cap stays at least its default of
        // 100 to keep dropped blobs from crowding out faces when maxFaces is small.
        const maxResults = Math.max(o.maxFaces, 100);
        const found = await this.ssd.locateFaces(
          input,
          new this.faceApi.SsdMobilenetv1Options({ minConfidence: o.ssdMinScore, maxResults }),
        );
        const faces = toFaceBoxes(found, 'ssd', o);
        if (faces.length > 0 || o.strategy === 'ssd') return faces;
      }
      const found = await this.tiny.locateFaces(
        input,
        new this.faceApi.TinyFaceDetectorOptions({ inputSize: o.tinyInputSize, scoreThreshold: o.tinyMinScore }),
      );
      return toFaceBoxes(found, 'tiny', o);
    } finally {
      input.dispose();
    }
  }

  /** Frees the detector weights held by the tfjs backend. */
  dispose(): void {
    this.ssd.dispose();
    this.tiny.dispose();
  }
}

function toFaceBoxes(
  found: FaceApiDetection[],
  detector: 'ssd' | 'tiny',
  o: Pick<Required<DetectOptions>, 'minFaceSize' | 'maxFaces'>,
): FaceBox[] {
  return found
    .map(({ score, box }) => ({ left: box.x, top: box.y, width: box.width, height: box.height, score, detector }))
    .filter((b) => Math.max(b.width, b.height) >= o.minFaceSize)
    .sort((a, b) => b.score - a.score)
    .slice(0, o.maxFaces);
}

async function selectBackend(name: 'wasm' | 'cpu' | undefined): Promise<void> {
  if (name === undefined) {
    // Initialises the highest-priority backend that works unless one is already active.
    await tf.ready();
    return;
  }
  if (tf.getBackend() === name || (await tf.setBackend(name))) return;
  if (name === 'wasm' && (await tf.setBackend('cpu'))) return;
  throw new Error(`FaceDetector: tfjs backend '${name}' could not be initialised`);
}

/** Reads a face-api weights manifest and its shards from disk, the offline equivalent of `loadFromUri`. */
async function loadWeightMap(dir: string | URL, model: string): Promise<tf.NamedTensorMap> {
  const dirPath = dir instanceof URL ? fileURLToPath(dir) : dir;
  const manifest = JSON.parse(await readFile(join(dirPath, `${model}-weights_manifest.json`), 'utf8')) as tf.io.WeightsManifestConfig;
  const load = tf.io.weightsLoaderFactory((paths) =>
    Promise.all(
      paths.map(async (p) => {
        const buf = await readFile(p);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      }),
    ),
  );
  return load(manifest, dirPath);
}
