/** The 7 expression classes in FER2013 index order. */
export const EMOTIONS = ['Angry', 'Disgust', 'Fear', 'Happy', 'Sad', 'Surprise', 'Neutral'] as const;
export type Emotion = (typeof EMOTIONS)[number];
export const NUM_CLASSES = EMOTIONS.length;

/** Folder names accepted for each class (lower-cased), beyond the class name itself. */
export const CLASS_ALIASES: Readonly<Record<string, number>> = {
  anger: 0,
  angry: 0,
  mad: 0,
  disgust: 1,
  disgusted: 1,
  fear: 2,
  fearful: 2,
  afraid: 2,
  scared: 2,
  happy: 3,
  happiness: 3,
  joy: 3,
  sad: 4,
  sadness: 4,
  surprise: 5,
  surprised: 5,
  neutral: 6,
  calm: 6,
};

/** FER2013 index of a class folder name, or undefined for an unknown name. */
export function classIndexOf(name: string): number | undefined {
  return CLASS_ALIASES[name.trim().toLowerCase()];
}
