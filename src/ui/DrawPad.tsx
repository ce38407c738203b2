import { useEffect, useRef, useState } from 'react';
import type { ImageBatch } from '../protocol';
import { gridRGBA } from './pixels';

interface Props {
  /** The model's image size and channels: the pad draws at that resolution. */
  size: number;
  channels: number;
  /** Called with the picture after every stroke (and after Clear). */
  onDraw: (image: ImageBatch) => void;
}

const SCALE = 6;

/**
 * A drawing pad at the model's own resolution: white strokes on black, as the digits are, with the
 * mouse, a finger or a pen (pointer events), a brush size and Clear. Each finished stroke becomes the
 * forward panel's x0, to noise and denoise again (SDEdit, Meng et al. 2022).
 */
export function DrawPad({ size, channels, onDraw }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const values = useRef(new Float32Array(size * size).fill(-1));
  const last = useRef<[number, number] | null>(null);
  const [brush, setBrush] = useState(1.5);

  const image = (): ImageBatch => {
    const grey = values.current;
    const out =
      channels === 1 ? grey.slice() : Float32Array.from({ length: grey.length * channels }, (_, i) => grey[Math.floor(i / channels)]);
    return { values: out, batch: 1, size, channels };
  };
  const paint = () => {
    const ctx = canvas.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    const { data, width, height } = gridRGBA(image(), 'image');
    ctx.putImageData(new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  };
  useEffect(paint);

  /** The pad pixel under a pointer event, in model pixels (fractional). */
  const at = (e: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * size, ((e.clientY - r.top) / r.height) * size];
  };
  /** A round brush along the segment a → b: pixels whose centre is within `brush` of it turn white. */
  const stroke = (a: [number, number], b: [number, number]) => {
    const v = values.current;
    const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
    const len2 = dx * dx + dy * dy;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const [px, py] = [x + 0.5, y + 0.5];
        const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / len2));
        if (Math.hypot(px - a[0] - u * dx, py - a[1] - u * dy) <= brush) v[y * size + x] = 1;
      }
    paint();
  };

  return (
    <div className="draw-pad">
      <canvas
        ref={canvas}
        width={size}
        height={size}
        className="pixels pad"
        style={{ width: size * SCALE, height: size * SCALE, touchAction: 'none' }}
        aria-label="drawing pad: draw with the mouse, a finger or a pen"
        data-testid="draw-pad"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          last.current = at(e);
          stroke(last.current, last.current);
        }}
        onPointerMove={(e) => {
          if (!last.current) return;
          const p = at(e);
          stroke(last.current, p);
          last.current = p;
        }}
        onPointerUp={() => {
          last.current = null;
          onDraw(image());
        }}
      />
      <div className="controls">
        <label>
          Brush
          <input
            type="range"
            min={0.5}
            max={3}
            step={0.5}
            value={brush}
            onChange={(e) => setBrush(Number(e.target.value))}
            data-testid="draw-brush"
          />
        </label>
        <button
          type="button"
          onClick={() => {
            values.current.fill(-1);
            paint();
            onDraw(image());
          }}
          data-testid="draw-clear"
        >
          Clear
        </button>
      </div>
    </div>
  );
}
