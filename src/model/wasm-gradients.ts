import * as tf from '@tensorflow/tfjs';

/**
 * Gradient kernels that tfjs 4.22's WASM backend lacks but the U-Net's training step needs.
 * Probing every op of the training step (tf.grads / variableGrads / Adam on 'wasm') finds exactly two:
 *  - Conv2DBackpropFilter: the filter gradient of every tf.conv2d;
 *  - UnsortedSegmentSum: the gradient of tf.gather (the label embedding table).
 * Everything else, including forward conv2d with explicit padding and Conv2DBackpropInput, exists.
 * (The backend's native Conv3DBackpropFilterV2 would be a tempting stand-in for the first, but it is
 * wrong for strides > 1 in 4.22, and slower than the XNNPACK matmuls used below.)
 *
 * Both kernels are composed from the backend's own kernels, called directly as kernel functions.
 * That is what the WASM backend's kernels do internally (e.g. BatchMatMul calls Reshape): the engine
 * is bypassed, so nothing is taped (the engine already stops taping inside kernels) and nothing is
 * tracked as a tensor, and every intermediate must be released with backend.disposeData (the data
 * is reference-counted, so releasing a Reshape view only drops its reference). The engine then wraps
 * the one returned TensorInfo as the kernel's output tensor, exactly as for a native kernel. (tf ops
 * inside a kernel would go through the engine again and leave an engine-tracked tensor owning the
 * output's data, to be kept alive and disowned by hand: more bookkeeping, no benefit.)
 */

/** Runs one of the WASM backend's kernels. Looked up per call, so registration may precede the backend's import. */
function run(backend: tf.KernelBackend, name: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm-gradients: the wasm backend has no '${name}' kernel (import '@tensorflow/tfjs-backend-wasm')`);
  // Concat takes its inputs as an array, like tfjs-core's concat op passes them.
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
}

/**
 * dW[kh, kw, ci, co] = Σ_{b,h,w} xPadded[b, h·s + kh, w·s + kw, ci] · dy[b, h, w, co]   (NHWC, dilation 1).
 * Per filter tap (kh, kw): strided-slice the padded input to [M = B·oH·oW, ci] and take one matmul
 * dyᵀ [co, M] · x_tap [M, ci] → [co, ci]. Keeping the matmul untransposed with batch 1 sends it to
 * XNNPACK's fully-connected operator (a transposed or batched matmul takes a plain C++ loop, 2–3× slower here).
 * Padding ('same', 'valid' or explicit) comes from computeConv2DInfo, so 'same' puts the odd extra
 * pixel at the bottom/right exactly like the forward conv. Dilations never get here: tfjs-core's
 * Conv2D gradient rejects dilation > 1 before asking for this kernel.
 */
const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as tf.KernelBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter supports only NHWC, got ${dataFormat}`);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('wasm Conv2DBackpropFilter needs float32 x and dy');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  if (dy.shape.join() !== info.outShape.join()) throw new Error(`wasm Conv2DBackpropFilter: dy is [${dy.shape}], expected [${info.outShape}]`);
  const m = batchSize * outHeight * outWidth;

  const xPadded = run(be, 'PadV2', { x }, { paddings: [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]], constantValue: 0 });
  const dy2 = run(be, 'Reshape', { x: dy }, { shape: [m, outChannels] });
  const dyT = run(be, 'Transpose', { x: dy2 }, { perm: [1, 0] });
  const dyT3 = run(be, 'Reshape', { x: dyT }, { shape: [1, outChannels, m] });
  be.disposeData(dy2.dataId);
  be.disposeData(dyT.dataId);

  const taps: tf.TensorInfo[] = []; // [1, co, ci] each, in (kh, kw) row-major order like the filter
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const slice = run(be, 'StridedSlice', { x: xPadded }, {
        begin: [0, i, j, 0],
        end: [batchSize, i + (outHeight - 1) * strideHeight + 1, j + (outWidth - 1) * strideWidth + 1, inChannels],
        strides: [1, strideHeight, strideWidth, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      }); // [B, oH, oW, ci]
      const cols = run(be, 'Reshape', { x: slice }, { shape: [1, m, inChannels] });
      taps.push(run(be, 'BatchMatMul', { a: dyT3, b: cols }, { transposeA: false, transposeB: false }));
      be.disposeData(slice.dataId);
      be.disposeData(cols.dataId);
    }
  }
  const stacked = run(be, 'Concat', taps, { axis: 0 }); // [kh·kw, co, ci]
  const swapped = run(be, 'Transpose', { x: stacked }, { perm: [0, 2, 1] }); // [kh·kw, ci, co]
  const dw = run(be, 'Reshape', { x: swapped }, { shape: filterShape });
  for (const t of [xPadded, dyT3, ...taps, stacked, swapped]) be.disposeData(t.dataId);
  return dw;
};

/**
 * out[s, ...] = Σ_{i : segmentIds[i] = s} x[i, ...]; ids outside [0, numSegments) are dropped, as in TF.
 * As a matmul: oneHot(segmentIds, numSegments)ᵀ [S, N] · x [N, D]. O(N·S·D), which is nothing for
 * tf.gather's gradient on an embedding table (N = batch size rows gathered from S table rows).
 */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as tf.KernelBackend;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32') throw new Error(`wasm UnsortedSegmentSum supports only float32 x, got ${x.dtype}`);
  const n = tf.util.sizeFromShape(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const ids = run(be, 'Reshape', { x: segmentIds }, { shape: [n] });
  const oneHot = run(be, 'OneHot', { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' }); // wasm OneHot writes int32 only
  const oneHotF = run(be, 'Cast', { x: oneHot }, { dtype: 'float32' });
  const x2 = run(be, 'Reshape', { x }, { shape: [n, tf.util.sizeFromShape(innerShape)] });
  const sums = run(be, 'BatchMatMul', { a: oneHotF, b: x2 }, { transposeA: true, transposeB: false }); // [S, D]
  const out = run(be, 'Reshape', { x: sums }, { shape: [numSegments, ...innerShape] });
  for (const t of [ids, oneHot, oneHotF, x2, sums]) be.disposeData(t.dataId);
  return out;
};

const KERNELS: tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
  { kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum },
];

/**
 * Registers, for the 'wasm' backend, each of the kernels above that it does not already have.
 * Idempotent, and callable before or after the wasm backend is imported or initialised.
 */
export function registerWasmGradients(): void {
  for (const config of KERNELS) if (!tf.getKernel(config.kernelName, 'wasm')) tf.registerKernel(config);
}
