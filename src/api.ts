import type { Box, FaceBox } from './detect/boxes.js';
import { cropFace, DEFAULT_CROP_MARGIN } from './detect/crop.js';
import { FaceDetector, type DetectOptions } from './detect/detector.js';
import { decodeImage, type DecodedImage } from './detect/image.js';
import { FACE_PIXELS } from './data/faces.js';
import { EMOTIONS, NUM_CLASSES, type Emotion } from './data/labels.js';
import { preprocessFaces } from './data/preprocess.js';
import { Ensemble, type CombinationMethod } from './ensemble/ensemble.js';
import { initEngine, type EngineOptions } from './model/engine/backend.js';

export interface FacePrediction {
  /** In pixels of the image as displayed (after EXIF orientation). */
  box: FaceBox;
  /** Probability per class, in FER2013 order. */
  probabilities: Record<Emotion, number>;
  label: Emotion;
}

export interface ImagePrediction {
  width: number;
  height: number;
  faces: FacePrediction[];
}

export interface PredictImageOptions {
  /** Your own face boxes instead of detection. */
  boxes?: readonly Box[];
  /** Average over the standard test-time perturbations (paper §5.3). */
  voting?: boolean;
  method?: CombinationMethod;
  /** Context around each box, as a fraction of its longer side. */
  margin?: number;
  detect?: DetectOptions;
}

/**
 * The library's entry point: load once, then call on images or on 48x48 faces.
 *   const model = await FerModel.load('models/fer2013-single');
 *   const { faces } = await model.predictImage('photo.jpg');
 */
export class FerModel {
  private detector: Promise<FaceDetector> | undefined;

  private constructor(readonly ensemble: Ensemble) {}

  /** Loads a model or ensemble folder; starts the compute engine if none is running. */
  static async load(dir: string, engine: EngineOptions = {}): Promise<FerModel> {
    await initEngine(engine);
    return new FerModel(await Ensemble.load(dir));
  }

  /** Class probabilities (n*7) for grayscale 48x48 faces given as n*2304 bytes. */
  predictFaces(pixels: Uint8Array, options: Pick<PredictImageOptions, 'voting' | 'method'> = {}): Float32Array {
    const count = pixels.length / FACE_PIXELS;
    if (!Number.isInteger(count)) throw new Error(`predictFaces: ${pixels.length} bytes is not a whole number of 48x48 faces`);
    if (count === 0) return new Float32Array(0);
    const inputs = preprocessFaces({ count, pixels, labels: new Int8Array(count).fill(-1) });
    return this.ensemble.predict(inputs, { ...(options.voting ? { voting: true } : {}), ...(options.method ? { method: options.method } : {}) });
  }

  /** Every face in an image (a path or encoded bytes): its box, 7 probabilities and label. */
  async predictImage(input: string | Uint8Array | DecodedImage, options: PredictImageOptions = {}): Promise<ImagePrediction> {
    const image = isDecoded(input) ? input : await decodeImage(input);
    const boxes: FaceBox[] = options.boxes
      ? options.boxes.map((b) => ({ left: b.left, top: b.top, width: b.width, height: b.height, score: 1, detector: 'user' as const }))
      : await (await this.faceDetector()).detect(image, options.detect);
    const pixels = new Uint8Array(boxes.length * FACE_PIXELS);
    boxes.forEach((box, i) => pixels.set(cropFace(image, box, { margin: options.margin ?? DEFAULT_CROP_MARGIN }), i * FACE_PIXELS));
    const probabilities = this.predictFaces(pixels, options);
    const faces = boxes.map((box, i) => {
      const row = Array.from(probabilities.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
      const best = row.indexOf(Math.max(...row));
      return { box, probabilities: Object.fromEntries(EMOTIONS.map((e, c) => [e, row[c] as number])) as Record<Emotion, number>, label: EMOTIONS[best] as Emotion };
    });
    return { width: image.width, height: image.height, faces };
  }

  private faceDetector(): Promise<FaceDetector> {
    this.detector ??= FaceDetector.load();
    return this.detector;
  }

  async dispose(): Promise<void> {
    this.ensemble.dispose();
    if (this.detector) (await this.detector).dispose();
  }
}

function isDecoded(input: string | Uint8Array | DecodedImage): input is DecodedImage {
  return typeof input === 'object' && 'rgb' in input && 'gray' in input;
}
