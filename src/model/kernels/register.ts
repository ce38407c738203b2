import * as tf from '@tensorflow/tfjs';
import {
  GROUP_NORM,
  GROUP_NORM_GRAD,
  groupNormComposite,
  groupNormGradComposite,
  groupNormGradConfig,
  groupNormKernelInputs,
} from './group-norm';
import { groupNormCpu, groupNormGradCpu } from './group-norm-cpu';
import { groupNormGradWasm, groupNormWasm } from './group-norm-wasm';
import { groupNormGradWebGPU, groupNormWebGPU } from './group-norm-webgpu';
import { TIMESTEP_EMBEDDING, timestepEmbeddingComposite } from './timestep-embedding';
import { timestepEmbeddingCpu, timestepEmbeddingWasm } from './timestep-embedding-cpu';
import { timestepEmbeddingWebGPU } from './timestep-embedding-webgpu';

/** WebGL: the composites, from the backend's own kernels (exact, not fused). */
const groupNormWebGL: tf.KernelFunc = ({ inputs, attrs }) => {
  const { x, gamma, beta, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, false);
  return groupNormComposite(x as tf.Tensor, gamma as tf.Tensor, beta as tf.Tensor, shift as tf.Tensor | undefined, a);
};
const groupNormGradWebGL: tf.KernelFunc = ({ inputs, attrs }) => {
  const { x, gamma, beta, dy, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, true);
  return groupNormGradComposite(x as tf.Tensor, gamma as tf.Tensor, beta as tf.Tensor, dy as tf.Tensor, shift as tf.Tensor | undefined, a);
};

const timestepEmbeddingWebGL: tf.KernelFunc = ({ inputs }) => {
  const { t, freqs } = inputs as unknown as { t: tf.Tensor; freqs: tf.Tensor };
  return timestepEmbeddingComposite(t, freqs);
};

const KERNELS: tf.KernelConfig[] = [
  { kernelName: GROUP_NORM, backendName: 'webgpu', kernelFunc: groupNormWebGPU },
  { kernelName: GROUP_NORM, backendName: 'webgl', kernelFunc: groupNormWebGL },
  { kernelName: GROUP_NORM, backendName: 'wasm', kernelFunc: groupNormWasm },
  { kernelName: GROUP_NORM, backendName: 'cpu', kernelFunc: groupNormCpu },
  { kernelName: GROUP_NORM_GRAD, backendName: 'webgpu', kernelFunc: groupNormGradWebGPU },
  { kernelName: GROUP_NORM_GRAD, backendName: 'webgl', kernelFunc: groupNormGradWebGL },
  { kernelName: GROUP_NORM_GRAD, backendName: 'wasm', kernelFunc: groupNormGradWasm },
  { kernelName: GROUP_NORM_GRAD, backendName: 'cpu', kernelFunc: groupNormGradCpu },
  { kernelName: TIMESTEP_EMBEDDING, backendName: 'webgpu', kernelFunc: timestepEmbeddingWebGPU },
  { kernelName: TIMESTEP_EMBEDDING, backendName: 'webgl', kernelFunc: timestepEmbeddingWebGL },
  { kernelName: TIMESTEP_EMBEDDING, backendName: 'wasm', kernelFunc: timestepEmbeddingWasm },
  { kernelName: TIMESTEP_EMBEDDING, backendName: 'cpu', kernelFunc: timestepEmbeddingCpu },
];

/**
 * Registers the project's own ops (one kernel per backend, one gradient for all) with tfjs.
 * Registering needs no backend: tfjs looks a kernel up by (name, backend) when the op runs.
 * Idempotent: the model's module calls it at import.
 */
export function registerModelKernels(): void {
  for (const k of KERNELS) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
  if (!tf.getGradient(GROUP_NORM)) tf.registerGradient(groupNormGradConfig);
}
