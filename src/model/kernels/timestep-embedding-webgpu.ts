import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

const WORKGROUP = 64;

/**
 * The timestep embedding (./timestep-embedding) as one WebGPU dispatch, one thread per output value.
 * GPU sin and cos are not accurate enough: WGSL promises an absolute error of 2⁻¹¹ on [−π, π] and
 * nothing beyond, and SwiftShader's err by 1.9e-4 at the arguments here (up to 999). So they are
 * computed as a libm does (Cephes' sinf/cosf): the float32 argument a = t·f_i is reduced exactly to
 * r = a − k·π/2, |r| ≤ π/4 (Cody–Waite: π/2 = C1 + C2 + C3, with C1 and C2 short enough that their
 * products with the integer k are exact in float32), then sin r and cos r are minimax polynomials
 * (error ~1 ulp) and the quadrant k mod 4 picks signs and which of the two each output is.
 */
export class TimestepEmbeddingProgram implements WebGPUProgram {
  variableNames = ['t', 'freqs'];
  outputShape: number[];
  shaderKey = 'ddpmTimestepEmbedding';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;

  constructor(batch: number, half: number) {
    this.outputShape = [batch, 2 * half];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((batch * 2 * half) / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `
      fn sinReduced(r : f32) -> f32 {
        let r2 = r * r;
        return r + r * r2 * (-1.6666654611e-1 + r2 * (8.3321608736e-3 + r2 * -1.9515295891e-4));
      }

      fn cosReduced(r : f32) -> f32 {
        let r2 = r * r;
        return 1.0 - 0.5 * r2 + r2 * r2 * (4.166664568298827e-2 + r2 * (-1.388731625493765e-3 + r2 * 2.443315711809948e-5));
      }

      fn main(index : i32) {
        if (index < uniforms.size) {
          let half = uniforms.freqsShape;
          let b = index / (2 * half);
          let j = index % (2 * half);
          let a = f32(t[b]) * freqs[j % half];
          let k = round(a * 0.636619772367581343);
          let r = ((a - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
          // the quadrant, plus one for the cosine (cos a = sin(a + π/2))
          let q = (i32(k) + select(1, 0, j < half)) & 3;
          let v = select(sinReduced(r), cosReduced(r), (q & 1) == 1);
          setOutputAtIndex(index, select(v, -v, q >= 2));
        }
      }
    `;
  }
}
export const timestepEmbeddingWebGPU: tf.KernelFunc = ({ inputs, backend }) => {
  const { t, freqs } = inputs as unknown as { t: tf.TensorInfo; freqs: tf.TensorInfo };
  const program = new TimestepEmbeddingProgram(t.shape[0], freqs.shape[0]);
  return (backend as WebGPUBackend).runWebGPUProgram(program, [t, freqs], 'float32');
};
