/*
 * The category mix a class-conditional model's Fréchet distance is measured in. The distance is to a
 * set of pictures with a mix of its own (the emoji's held-out tenth is 54 % People & Body, 2 %
 * Activities); samples asked for the categories equally are far from it however good they are —
 * real training emoji taken nine categories in turn are 3.4× the floor from the held-out tenth
 * (docs/colour.md). So the samples the distance is measured on are asked for the categories in the
 * pictures' own mix (as class-conditional FID draws its labels from the data), while the share read
 * right is measured on samples asked for the categories equally.
 */

/** The samples to draw for both measures, and which of them stand for the pictures' mix. */
export interface MixedAsk {
  /** Categories to ask for beyond `asked`, where the mix needs more of one than `asked` has. */
  extra: number[];
  /** For each entry of `mix`, the index of a sample of its category in [...asked, ...extra]; each used once. */
  pick: number[];
}

/** Reuses the samples already asked for (`asked`) wherever the mix's category has one left. */
export function askInMix(asked: number[], mix: number[]): MixedAsk {
  const unused = new Map<number, number[]>();
  asked.forEach((k, i) => unused.set(k, [...(unused.get(k) ?? []), i]));
  const extra: number[] = [];
  const pick = mix.map((k) => {
    const reuse = unused.get(k)?.shift();
    if (reuse !== undefined) return reuse;
    extra.push(k);
    return asked.length + extra.length - 1;
  });
  return { extra, pick };
}
