import { useEffect, useRef } from 'react';
import type { ImageBatch } from '../protocol';
import { gridRGBA, type Range } from './pixels';

interface Props {
  image: ImageBatch | null;
  range?: Range;
  /** CSS size of the square canvas. */
  displaySize: number;
  label: string;
  testId?: string;
  onClick?: () => void;
}

/** Draws an image batch at native resolution; CSS scales it up with crisp nearest-neighbour pixels. */
export function ImageCanvas({ image, range = 'image', displaySize, label, testId, onClick }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    // tiny canvases updated by putImageData: keep them in CPU memory
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    if (!image) {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    const { data, width, height } = gridRGBA(image, range);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    ctx.putImageData(new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  }, [image, range]);
  const canvas = (
    <canvas
      ref={ref}
      className="pixels"
      width={1}
      height={1}
      style={{ width: displaySize, height: displaySize }}
      // inside a button the button carries the name; the canvas would only repeat it
      role={onClick ? undefined : 'img'}
      aria-label={onClick ? undefined : label}
      aria-hidden={onClick ? true : undefined}
      data-testid={testId}
    />
  );
  return onClick ? (
    <button type="button" className="thumb-button" onClick={onClick} aria-label={label}>
      {canvas}
    </button>
  ) : (
    canvas
  );
}
