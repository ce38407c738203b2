import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { gradOutputSize, groupNormKernelInputs, type GroupNormAttrs } from './group-norm';

/** Threads per workgroup: one workgroup normalises one (image, group) pair. */
const WORKGROUP = 256;

/**
 * What both programs share: one workgroup per (image, group), shapes from tfjs' uniforms (so one
 * compiled pipeline serves every batch and size of the same rank), G, the shift's offset and ε as
 * uniforms of their own; SiLU and the shift change the code and are part of the shader key.
 */
abstract class GroupProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  uniforms = 'groups : i32, shiftOffset : i32, epsilon : f32,';
  protected readonly silu: boolean;
  protected readonly hasShift: boolean;

  constructor(
    xShape: number[],
    outputShape: number[],
    groups: number,
    silu: boolean,
    hasShift: boolean,
    variableNames: string[],
    name: string,
  ) {
    this.outputShape = outputShape;
    this.variableNames = variableNames;
    this.dispatch = [xShape[0] * groups, 1, 1];
    this.silu = silu;
    this.hasShift = hasShift;
    this.shaderKey = `${name}_${silu}_${hasShift}`;
  }

  abstract getUserCode(): string;
}

/**
 * GroupNorm (+ shift, + SiLU; ./group-norm) as one WebGPU dispatch, written like tfjs' own programs
 * (see tfjs-backend-webgpu's reduce_webgpu.js): one workgroup per (image b, group g); its threads
 * stride over the group's H·W·C/G values three times — the sum (mean), the sum of squared
 * deviations (variance, the two-pass form), then the normalised, affine, SiLU'd output — with a
 * tree reduction in workgroup memory after each of the first two passes.
 */
export class GroupNormProgram extends GroupProgram {
  constructor(xShape: number[], groups: number, silu: boolean, hasShift: boolean) {
    super(xShape, xShape, groups, silu, hasShift, ['x', 'gamma', 'beta', ...(hasShift ? ['shift'] : [])], 'ddpmGroupNorm');
  }

  getUserCode(): string {
    return `
      ${groupStatsSnippet(this.hasShift)}

      fn main(index : i32) {
        let grp = currentGroup();
        for (var k = i32(localIndex); k < grp.n; k = k + ${WORKGROUP}) {
          let i = elementIndex(grp, k);
          let ch = grp.c0 + k % grp.cg;
          let z = gamma[ch] * (x[i] + shiftAt(grp, ch) - grp.mean) * grp.r + beta[ch];
          setOutputAtIndex(i, ${this.silu ? 'z / (1.0 + exp(-z))' : 'z'});
        }
      }
    `;
  }
}

/**
 * WGSL shared by both programs: the workgroup's (image, group), the group's element k → flat index,
 * and its mean and r = 1/√(σ² + ε) of u = x + shift (two passes, tree reductions in workgroup memory).
 * Shapes are read from x's shape uniform, so they work whatever the output's shape.
 */
function groupStatsSnippet(hasShift: boolean): string {
  return `
    var<workgroup> partial : array<f32, ${WORKGROUP}>;

    // Sum of one value per thread over the workgroup (all threads must call it).
    fn workgroupSum(v : f32) -> f32 {
      partial[localIndex] = v;
      workgroupBarrier();
      for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
        if (localIndex < s) {
          partial[localIndex] = partial[localIndex] + partial[localIndex + s];
        }
        workgroupBarrier();
      }
      let total = partial[0];
      workgroupBarrier();
      return total;
    }

    struct Group { b : i32, c : i32, cg : i32, c0 : i32, n : i32, base : i32, mean : f32, r : f32 };

    fn elementIndex(grp : Group, k : i32) -> i32 {
      return grp.base + (k / grp.cg) * grp.c + grp.c0 + k % grp.cg;
    }

    fn shiftAt(grp : Group, ch : i32) -> f32 {
      return ${hasShift ? 'shift[grp.b * uniforms.shiftShape[1] + uniforms.shiftOffset + ch]' : '0.0'};
    }

    fn currentGroup() -> Group {
      var grp : Group;
      let wg = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
      let hw = uniforms.xShape[1] * uniforms.xShape[2];
      grp.c = uniforms.xShape[3];
      grp.cg = grp.c / uniforms.groups;
      grp.n = hw * grp.cg;
      grp.b = wg / uniforms.groups;
      grp.c0 = (wg % uniforms.groups) * grp.cg;
      grp.base = grp.b * hw * grp.c;
      var sum = 0.0;
      for (var k = i32(localIndex); k < grp.n; k = k + ${WORKGROUP}) {
        sum = sum + x[elementIndex(grp, k)] + shiftAt(grp, grp.c0 + k % grp.cg);
      }
      grp.mean = workgroupSum(sum) / f32(grp.n);
      var sq = 0.0;
      for (var k = i32(localIndex); k < grp.n; k = k + ${WORKGROUP}) {
        let d = x[elementIndex(grp, k)] + shiftAt(grp, grp.c0 + k % grp.cg) - grp.mean;
        sq = sq + d * d;
      }
      grp.r = inverseSqrt(workgroupSum(sq) / f32(grp.n) + uniforms.epsilon);
      return grp;
    }
  `;
}

/**
 * GROUP_NORM_GRAD (./group-norm) as one dispatch, one workgroup per (image, group) as above. Thread t
 * works on channel t mod C/G of the group only (so per-channel sums need no atomics): the first
 * ⌊256/(C/G)⌋·C/G threads stride over the group's pixels. After the statistics, one pass sums
 * g = ∂L/∂z·γ and g·x̂ over the group and ∂L/∂z·x̂, ∂L/∂z per channel; a second writes ∂L/∂u and
 * sums it per channel; thread j < C/G writes channel j's three sums after the image's ∂L/∂u.
 */
export class GroupNormGradProgram extends GroupProgram {
  constructor(xShape: number[], groups: number, silu: boolean, hasShift: boolean) {
    // β enters only through SiLU′(z); a binding the shader does not read would not be in its layout
    super(
      xShape,
      [gradOutputSize(xShape)],
      groups,
      silu,
      hasShift,
      ['x', 'gamma', ...(silu ? ['beta'] : []), 'dy', ...(hasShift ? ['shift'] : [])],
      'ddpmGroupNormGrad',
    );
  }

  getUserCode(): string {
    const dz = this.silu
      ? `let z = gamma[ch] * xHat + beta[ch];
          let s = 1.0 / (1.0 + exp(-z));
          let dz = dy[i] * s * (1.0 + z * (1.0 - s));`
      : 'let dz = dy[i];';
    return `
      ${groupStatsSnippet(this.hasShift)}

      var<workgroup> perChannel : array<f32, ${WORKGROUP}>;

      // Thread j < cg gets the sum of v over the threads of channel j (all threads must call it).
      fn channelSum(v : f32, cg : i32, lanes : i32) -> f32 {
        perChannel[localIndex] = v;
        workgroupBarrier();
        var total = 0.0;
        if (i32(localIndex) < cg) {
          for (var l = 0; l < lanes; l = l + 1) {
            total = total + perChannel[l * cg + i32(localIndex)];
          }
        }
        workgroupBarrier();
        return total;
      }

      fn main(index : i32) {
        let grp = currentGroup();
        let lanes = ${WORKGROUP} / grp.cg;
        let t = i32(localIndex);
        let ch = grp.c0 + t % grp.cg;
        let hw = grp.n / grp.cg;
        let inLane = t < lanes * grp.cg;

        var sg = 0.0;
        var sgx = 0.0;
        var sdzx = 0.0;
        var sdz = 0.0;
        if (inLane) {
          for (var p = t / grp.cg; p < hw; p = p + lanes) {
            let i = grp.base + p * grp.c + ch;
            let xHat = (x[i] + shiftAt(grp, ch) - grp.mean) * grp.r;
            ${dz}
            let g = dz * gamma[ch];
            sg = sg + g;
            sgx = sgx + g * xHat;
            sdzx = sdzx + dz * xHat;
            sdz = sdz + dz;
          }
        }
        let meanG = workgroupSum(sg) / f32(grp.n);
        let meanGx = workgroupSum(sgx) / f32(grp.n);
        let dzx = channelSum(sdzx, grp.cg, lanes);
        let dzSum = channelSum(sdz, grp.cg, lanes);

        var sdu = 0.0;
        if (inLane) {
          for (var p = t / grp.cg; p < hw; p = p + lanes) {
            let i = grp.base + p * grp.c + ch;
            let xHat = (x[i] + shiftAt(grp, ch) - grp.mean) * grp.r;
            ${dz}
            let du = grp.r * (dz * gamma[ch] - meanG - xHat * meanGx);
            setOutputAtIndex(i, du);
            sdu = sdu + du;
          }
        }
        let duSum = channelSum(sdu, grp.cg, lanes);

        if (t < grp.cg) {
          let bc = uniforms.xShape[0] * grp.c;
          let row0 = bc * hw + grp.b * grp.c + ch;
          setOutputAtIndex(row0, dzx);
          setOutputAtIndex(row0 + bc, dzSum);
          setOutputAtIndex(row0 + 2 * bc, duSum);
        }
      }
    `;
  }
}

export const groupNormWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, false);
  const program = new GroupNormProgram(x.shape, a.groups, a.silu, shift !== undefined);
  return (backend as WebGPUBackend).runWebGPUProgram(program, shift ? [x, gamma, beta, shift] : [x, gamma, beta], 'float32', uniformsOf(a));
};

const uniformsOf = (a: GroupNormAttrs) => [
  { type: 'int32', data: [a.groups] },
  { type: 'int32', data: [a.shiftOffset] },
  { type: 'float32', data: [a.epsilon] },
];

export const groupNormGradWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, dy, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, true);
  const program = new GroupNormGradProgram(x.shape, a.groups, a.silu, shift !== undefined);
  const used = [x, gamma, ...(a.silu ? [beta] : []), dy!, ...(shift ? [shift] : [])];
  return (backend as WebGPUBackend).runWebGPUProgram(program, used, 'float32', uniformsOf(a));
};
