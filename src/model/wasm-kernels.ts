import * as tf from '@tensorflow/tfjs';
import { captureNativeSlice, slice, splitV } from './wasm-slice';

/**
 * Kernels this project adds to tfjs 4.22's WASM backend or replaces in it: the gradient kernels the
 * U-Net's training step needs, below, and copy-free Slice and SplitV (./wasm-slice) for the flat
 * optimizer buffers.
 *  - Conv2DBackpropFilter, the filter gradient of every tf.conv2d: missing in the backend;
 *  - UnsortedSegmentSum, the gradient of tf.gather (the label embedding table): missing;
 *  - Conv2DBackpropInput, the input gradient of every tf.conv2d: present, but a naive C++ loop
 *    (10× the forward conv's time; 1.4 s of a 2.3 s training step of the shipped model), so it is replaced.
 * Both convolution gradients are rewritten as forward convolutions, which go through XNNPACK (the
 * backend's fast path): measured at batch 16, 3×3, 28²×48→24, the input gradient takes 12 ms instead
 * of 138 ms and the filter gradient 18 ms instead of 55 ms (the earlier per-tap matmuls), against
 * 10 ms for the forward conv.
 *
 * The kernels are composed from the backend's own kernels, called directly as kernel functions.
 * That is what the WASM backend's kernels do internally (e.g. BatchMatMul calls Reshape): the engine
 * is bypassed, so nothing is taped (the engine already stops taping inside kernels) and nothing is
 * tracked as a tensor, and every intermediate must be released with backend.disposeData (the data
 * is reference-counted, so releasing a Reshape view only drops its reference). The engine then wraps
 * the one returned TensorInfo as the kernel's output tensor, exactly as for a native kernel.
 */

/** Runs one of the WASM backend's kernels (looked up per call: ours where they replace the backend's). */
export function run(
  backend: tf.KernelBackend,
  name: string,
  inputs: tf.NamedTensorInfoMap | tf.TensorInfo[],
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm-kernels: the wasm backend has no '${name}' kernel (import '@tensorflow/tfjs-backend-wasm')`);
  // Concat takes its inputs as an array, like tfjs-core's concat op passes them.
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Crops [B, H, W, C] by (top, bottom, left, right) rows/columns; returns the input itself when there is nothing to crop. */
function crop(be: tf.KernelBackend, x: tf.TensorInfo, top: number, bottom: number, left: number, right: number): tf.TensorInfo {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const [b, h, w, c] = x.shape;
  return run(be, 'Slice', { x }, { begin: [0, top, left, 0], size: [b, h - top - bottom, w - left - right, c] });
}

/** The convolution gradients below take NHWC float32 tensors only: say so rather than compute garbage. */
function requireNhwcFloat32(kernel: string, dataFormat: string, tensors: Record<string, tf.TensorInfo>): void {
  if (dataFormat !== 'NHWC') throw new Error(`wasm ${kernel} supports only NHWC, got ${dataFormat}`);
  const other = Object.entries(tensors).find(([, t]) => t.dtype !== 'float32');
  if (other) throw new Error(`wasm ${kernel} needs float32 ${Object.keys(tensors).join(' and ')}; ${other[0]} is ${other[1].dtype}`);
}

/**
 * dx = conv2d(dy dilated by the stride, W rotated by 180° with in/out swapped), stride 1:
 *   dx[b, i, j, ci] = Σ_{kh, kw, co} dyDilated[b, i + kh − (K−1−padTop), j + kw − (K−1−padLeft), co] · W[K−1−kh, K−1−kw, ci, co].
 * The stride becomes zeros between the rows and columns of dy (a reshape and a pad, so XNNPACK sees a
 * plain convolution); the padding is whatever makes dx exactly inputShape, cropping dy where
 * the forward conv ignored trailing input rows ('valid' with a stride).
 */
const conv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as tf.KernelBackend;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwcFloat32('Conv2DBackpropInput', dataFormat, { dy, filter });
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } =
    info;
  if (dy.shape.join() !== info.outShape.join())
    throw new Error(`wasm Conv2DBackpropInput: dy is [${dy.shape}], expected [${info.outShape}]`);

  // 1. W' [K, K, out, in]: rotated by 180° in space, input and output channels swapped
  const reversed = run(be, 'Reverse', { x: filter }, { dims: [0, 1] });
  const rotated = run(be, 'Transpose', { x: reversed }, { perm: [0, 1, 3, 2] });
  be.disposeData(reversed.dataId);

  // 2. dy with (stride − 1) zeros after every row and column: [B, oH·sH, oW·sW, out]
  let dilated = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    const spread = run(be, 'Reshape', { x: dy }, { shape: [batchSize, outHeight, 1, outWidth, 1, outChannels] });
    const padded = run(
      be,
      'PadV2',
      { x: spread },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, strideHeight - 1],
          [0, 0],
          [0, strideWidth - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    dilated = run(be, 'Reshape', { x: padded }, { shape: [batchSize, outHeight * strideHeight, outWidth * strideWidth, outChannels] });
    be.disposeData(spread.dataId);
    be.disposeData(padded.dataId);
  }

  // 3. a 'full' convolution padding, trimmed so that the result is exactly [B, inH, inW, in]
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight - outHeight * strideHeight + padInfo.top;
  const right = inWidth - outWidth * strideWidth + padInfo.left;
  const cropped = crop(be, dilated, Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right));
  const convPad: ExplicitPad = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  const dx = run(be, tf.Conv2D, { x: cropped, filter: rotated }, { strides: 1, pad: convPad, dataFormat: 'NHWC', dilations: 1 });
  for (const t of new Set([rotated, dilated, cropped])) if (t !== dy) be.disposeData(t.dataId);
  return dx;
};

/**
 * dW[kh, kw, ci, co] = Σ_{b, h, w} xPadded[b, h·s + kh, w·s + kw, ci] · dy[b, h, w, co]   (NHWC, dilation 1)
 * is itself a convolution: over (kh, kw), of x transposed to [ci, H, W, B] (channels of the batch),
 * with dy transposed to [oH, oW, B, co] as the filter, dilated by the stride. Its output
 * [ci, ≥K, ≥K, co] is cropped to K (rows the forward conv never reached) and transposed back.
 * Padding ('same', 'valid' or explicit) comes from computeConv2DInfo, so 'same' puts the odd extra
 * pixel at the bottom/right exactly like the forward conv. Dilations never get here: tfjs-core's
 * Conv2D gradient rejects dilation > 1 before asking for this kernel.
 */
const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as tf.KernelBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwcFloat32('Conv2DBackpropFilter', dataFormat, { x, dy });
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  if (dy.shape.join() !== info.outShape.join())
    throw new Error(`wasm Conv2DBackpropFilter: dy is [${dy.shape}], expected [${info.outShape}]`);

  const xT = run(be, 'Transpose', { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, B]
  const dyT = run(be, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oH, oW, B, co]
  const convPad: ExplicitPad = [
    [0, 0],
    [padInfo.top, padInfo.bottom],
    [padInfo.left, padInfo.right],
    [0, 0],
  ];
  const full = run(
    be,
    tf.Conv2D,
    { x: xT, filter: dyT },
    { strides: 1, pad: convPad, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth] },
  ); // [ci, ≥K, ≥K, co]
  const taps = crop(be, full, 0, full.shape[1] - filterHeight, 0, full.shape[2] - filterWidth); // [ci, K, K, co]
  const dw = run(be, 'Transpose', { x: taps }, { perm: [1, 2, 0, 3] }); // [K, K, ci, co]
  for (const t of new Set([xT, dyT, full, taps])) be.disposeData(t.dataId);
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
  { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc: conv2DBackpropInput },
  { kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum },
  { kernelName: tf.Slice, backendName: 'wasm', kernelFunc: slice },
  { kernelName: tf.SplitV, backendName: 'wasm', kernelFunc: splitV },
];

/**
 * Registers the kernels above and those of ./wasm-slice for the 'wasm' backend, replacing the
 * backend's own where it has one (Conv2DBackpropInput, Slice, SplitV). Idempotent; call it after
 * importing '@tensorflow/tfjs-backend-wasm' (which registers the backend's kernels), before or after
 * the backend is initialised.
 */
export function registerWasmKernels(): void {
  captureNativeSlice();
  for (const config of KERNELS) {
    const present = tf.getKernel(config.kernelName, 'wasm');
    if (present?.kernelFunc === config.kernelFunc) continue;
    if (present) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
