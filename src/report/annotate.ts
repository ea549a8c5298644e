import sharp from 'sharp';
import type { FacePrediction } from '../api.js';
import { escapeXml } from './curve.js';

const COLORS = ['#e6194b', '#911eb4', '#f58231', '#3cb44b', '#4363d8', '#ffe119', '#a9a9a9'];
const CLASS_ORDER = ['Angry', 'Disgust', 'Fear', 'Happy', 'Sad', 'Surprise', 'Neutral'];

/** The image (turned upright by its EXIF orientation) with each face's box and label drawn on it, as JPEG or PNG. */
export async function annotateImage(input: string | Uint8Array, width: number, height: number, faces: readonly FacePrediction[], format: 'jpeg' | 'png'): Promise<Buffer> {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const shapes = faces.map(({ box, label, probabilities }) => {
    const color = COLORS[CLASS_ORDER.indexOf(label)] ?? '#ffffff';
    const text = `${label} ${(probabilities[label] * 100).toFixed(0)}%`;
    const textY = box.top > font + 4 ? box.top - 4 : box.top + box.height + font;
    return `<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="${color}" stroke-width="${stroke}"/>` +
      `<rect x="${box.left}" y="${textY - font}" width="${(text.length * font * 0.6).toFixed(0)}" height="${font + 4}" fill="${color}" opacity="0.8"/>` +
      `<text x="${box.left + 2}" y="${textY}" font-family="sans-serif" font-size="${font}" fill="black">${escapeXml(text)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  const image = sharp(input).rotate().composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}
