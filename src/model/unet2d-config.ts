import { ModelConfigError } from './config-error';

/** The block types of a UNet2DModel this engine runs (any other is refused by name). */
export const DOWN_BLOCK_TYPES = ['DownBlock2D', 'AttnDownBlock2D'] as const;
export const UP_BLOCK_TYPES = ['UpBlock2D', 'AttnUpBlock2D'] as const;

/**
 * diffusers' UNet2DModel configuration (its config.json), in the engine's words; `imageSize`,
 * `inChannels` and `numClasses` as every model config has them. Made only by parseUNet2DConfig.
 */
export interface UNet2DConfig {
  kind: 'unet2d';
  imageSize: number;
  inChannels: number;
  outChannels: number;
  /** The drawable classes: num_class_embeds, less the "no label" row where there is one; 0: unconditional. */
  numClasses: number;
  numClassEmbeds: number | null;
  /** The class-embedding row that means "no label" (playground.json; diffusers has none), or null. */
  noLabelClass: number | null;
  blockOutChannels: number[];
  layersPerBlock: number;
  downBlockTypes: (typeof DOWN_BLOCK_TYPES)[number][];
  upBlockTypes: (typeof UP_BLOCK_TYPES)[number][];
  /** Width of an attention head; null: one head of all channels. */
  attentionHeadDim: number | null;
  normNumGroups: number;
  normEps: number;
  flipSinToCos: boolean;
  freqShift: number;
  downsamplePadding: 0 | 1;
  centerInputSample: boolean;
  midBlockScaleFactor: number;
  addAttention: boolean;
  dropout: number;
}

/** What a config.json says of a key, with diffusers' default when it is absent (null counts as absent where diffusers treats it so). */
type Json = Record<string, unknown>;

/**
 * A diffusers config.json → UNet2DConfig, refusing with a clear reason what this engine cannot run
 * (another model class, an unsupported block type — named —, Fourier time embeddings, a scale-shift
 * resnet, another activation, a shape that does not fit). Defaults are UNet2DModel's.
 */
export function parseUNet2DConfig(raw: unknown): UNet2DConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelConfigError('config.json is not a JSON object');
  const j = raw as Json;
  const cls = j._class_name;
  if (cls !== undefined && cls !== 'UNet2DModel')
    throw new ModelConfigError(`this is a ${JSON.stringify(cls)}, not a UNet2DModel: the playground runs diffusers' UNet2DModel only`);
  const get = <T>(key: string, fallback: T, ok: (v: unknown) => boolean, what: string): T => {
    const v = j[key];
    if (v === undefined) return fallback;
    if (!ok(v)) throw new ModelConfigError(`config.json: ${key} must be ${what}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  const int = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const expect = (key: string, value: unknown, fallback: unknown, why: string) => {
    const v = j[key] ?? fallback;
    if (v !== value) throw new ModelConfigError(`config.json: ${key} '${String(v)}' is not supported (${why})`);
  };
  expect('time_embedding_type', 'positional', 'positional', 'only the positional (sinusoidal) time embedding is');
  expect('act_fn', 'silu', 'silu', 'only SiLU is');
  expect('resnet_time_scale_shift', 'default', 'default', "only the 'default' time conditioning is");
  expect('downsample_type', 'conv', 'conv', 'only conv downsampling is');
  expect('upsample_type', 'conv', 'conv', 'only conv upsampling is');
  if (j.class_embed_type !== undefined && j.class_embed_type !== null)
    throw new ModelConfigError(
      `config.json: class_embed_type ${JSON.stringify(j.class_embed_type)} is not supported (only a plain class embedding is)`,
    );
  if (j.attn_norm_num_groups !== undefined && j.attn_norm_num_groups !== null)
    throw new ModelConfigError('config.json: attn_norm_num_groups is not supported');
  const blockOutChannels = get<number[]>(
    'block_out_channels',
    [224, 448, 672, 896],
    (v) => Array.isArray(v) && v.length > 0 && v.every(int),
    'a list of positive integers',
  );
  const levels = blockOutChannels.length;
  const blockTypes = <T extends string>(key: string, fallback: T[], allowed: readonly T[]): T[] => {
    const types = get<unknown[]>(key, fallback, (v) => Array.isArray(v), 'a list');
    if (types.length !== levels)
      throw new ModelConfigError(`config.json: ${key} has ${types.length} entries; block_out_channels has ${levels}`);
    for (const t of types)
      if (!allowed.includes(t as T))
        throw new ModelConfigError(
          `config.json: block type '${String(t)}' is not supported (the playground runs ${allowed.join(' and ')} in ${key})`,
        );
    return types as T[];
  };
  const downBlockTypes = blockTypes(
    'down_block_types',
    ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
    DOWN_BLOCK_TYPES,
  );
  const upBlockTypes = blockTypes('up_block_types', ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'], UP_BLOCK_TYPES);
  const sample = j.sample_size;
  const imageSize = Array.isArray(sample) ? (sample[0] === sample[1] ? (sample[0] as unknown) : NaN) : sample;
  if (!int(imageSize))
    throw new ModelConfigError(`config.json: sample_size must be a positive integer (square images), got ${JSON.stringify(sample)}`);
  if ((imageSize as number) % 2 ** (levels - 1) !== 0)
    throw new ModelConfigError(`config.json: sample_size ${String(imageSize)} cannot be halved ${levels - 1} times`);
  const attentionHeadDim = get<number | null>('attention_head_dim', 8, (v) => v === null || int(v), 'null or a positive integer');
  const normNumGroups = get<number>('norm_num_groups', 32, int, 'a positive integer');
  for (const ch of blockOutChannels) {
    if (ch % normNumGroups !== 0) throw new ModelConfigError(`config.json: ${ch} channels do not split into ${normNumGroups} groups`);
    if (attentionHeadDim !== null && ch % attentionHeadDim !== 0)
      throw new ModelConfigError(`config.json: ${ch} channels do not split into heads of ${attentionHeadDim}`);
  }
  const numClassEmbeds = get<number | null>('num_class_embeds', null, (v) => v === null || int(v), 'null or a positive integer');
  const downsamplePadding = get<number>('downsample_padding', 1, (v) => v === 0 || v === 1, '0 or 1') as 0 | 1;
  const number = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  return {
    kind: 'unet2d',
    imageSize: imageSize as number,
    inChannels: get('in_channels', 3, int, 'a positive integer'),
    outChannels: get('out_channels', 3, int, 'a positive integer'),
    numClasses: numClassEmbeds ?? 0,
    numClassEmbeds,
    noLabelClass: null,
    blockOutChannels,
    layersPerBlock: get('layers_per_block', 2, int, 'a positive integer'),
    downBlockTypes,
    upBlockTypes,
    attentionHeadDim,
    normNumGroups,
    normEps: get('norm_eps', 1e-5, (v) => number(v) && (v as number) > 0, 'a positive number'),
    flipSinToCos: get('flip_sin_to_cos', true, (v) => typeof v === 'boolean', 'true or false'),
    freqShift: get('freq_shift', 0, number, 'a number'),
    downsamplePadding,
    centerInputSample: get('center_input_sample', false, (v) => typeof v === 'boolean', 'true or false'),
    midBlockScaleFactor: get('mid_block_scale_factor', 1, (v) => number(v) && (v as number) > 0, 'a positive number'),
    addAttention: get('add_attention', true, (v) => typeof v === 'boolean', 'true or false'),
    dropout: get('dropout', 0, (v) => number(v) && (v as number) >= 0 && (v as number) < 1, 'in [0, 1)'),
  };
}

/** The config.json diffusers' UNet2DModel.from_pretrained reads back as this model. */
export function toDiffusersConfig(c: UNet2DConfig): Json {
  return {
    _class_name: 'UNet2DModel',
    sample_size: c.imageSize,
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    center_input_sample: c.centerInputSample,
    time_embedding_type: 'positional',
    freq_shift: c.freqShift,
    flip_sin_to_cos: c.flipSinToCos,
    down_block_types: c.downBlockTypes,
    up_block_types: c.upBlockTypes,
    block_out_channels: c.blockOutChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_scale_factor: c.midBlockScaleFactor,
    downsample_padding: c.downsamplePadding,
    downsample_type: 'conv',
    upsample_type: 'conv',
    dropout: c.dropout,
    act_fn: 'silu',
    attention_head_dim: c.attentionHeadDim,
    norm_num_groups: c.normNumGroups,
    norm_eps: c.normEps,
    resnet_time_scale_shift: 'default',
    add_attention: c.addAttention,
    class_embed_type: null,
    num_class_embeds: c.numClassEmbeds,
  };
}
