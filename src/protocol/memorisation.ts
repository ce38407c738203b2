import type { Closeness } from '../memorisation/nearest';
import type { ImageBatch } from './images';

/** The 'memorisation' channel: "is it a copy?" — a sample's nearest training images. */

/** A training image near the one asked about. */
export interface NearestImage {
  /** Its index in the training set. */
  index: number;
  /** The class of a shipped digit ("3"), or an upload's file path. */
  name: string;
  /** Euclidean distance: over pixels in [0, 1], or over the classifier's features. */
  distance: number;
  /** Its pixels, size·size·channels bytes. */
  pixels: Uint8Array;
}

/** The data's own nearest-pair distances, summarised (same units as NearestImage.distance). */
export interface Yardstick {
  /** How many training images' nearest neighbours it was measured from. */
  queries: number;
  p01: number;
  p10: number;
  median: number;
}

/** One image's nearest training images, by pixels and (digits) by classifier features, and what their distance says. */
export interface ImageCheck {
  /** The image asked about, as bytes (size·size·channels). */
  query: Uint8Array;
  pixels: { nearest: NearestImage[]; closeness: Closeness | null };
  features: { nearest: NearestImage[]; closeness: Closeness | null } | null;
}

export interface MemorisationResult {
  /** What the images were compared against, in words ("the 9,000 MNIST digits the shipped model was trained on"). */
  description: string;
  count: number;
  size: number;
  channels: number;
  yardsticks: { pixels: Yardstick; features: Yardstick | null };
  checks: ImageCheck[];
}

/** `request`: the page's id for the check; its progress and result carry it back. */
export type MemorisationRequest =
  /** The nearest training images of each image (values in [−1, 1] at the model's size): a run's samples. */
  | { channel: 'memorisation'; type: 'check'; request: number; images: ImageBatch }
  /** The same for a picture of the person's own, decoded to the model's size. */
  | { channel: 'memorisation'; type: 'checkFile'; request: number; file: File };

export type MemorisationEvent =
  /** The first check of a training set loads it, reads it with the classifier and measures its nearest pairs. */
  | {
      channel: 'memorisation';
      type: 'progress';
      request: number;
      phase: 'download' | 'features' | 'yardstick';
      done: number;
      total: number;
    }
  | { channel: 'memorisation'; type: 'result'; request: number; result: MemorisationResult }
  | { channel: 'memorisation'; type: 'error'; message: string };
