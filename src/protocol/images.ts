/** A batch of images as it crosses the page–worker boundary: values [batch·size·size·channels], NHWC, in [−1, 1]. */
export interface ImageBatch {
  values: Float32Array;
  batch: number;
  size: number;
  channels: number;
}
