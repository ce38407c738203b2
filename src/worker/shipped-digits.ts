/**
 * The shipped model's training digits: train-digits.json (counts per class) and .bin.gz (uint8,
 * class-major), for the memorisation check and the training panel's captioned digits example.
 */
export async function loadShippedDigits(jsonUrl: string, fetchFile: (url: string) => Promise<Response>) {
  const fetchOk = async (url: string) => {
    const r = await fetchFile(url);
    if (!r.ok) throw new Error(`could not load ${url} (HTTP ${r.status})`);
    return r;
  };
  const meta = (await (await fetchOk(jsonUrl)).json()) as { size: number; channels: number; counts: number[] };
  let bytes = new Uint8Array(await (await fetchOk(jsonUrl.replace(/\.json$/, '.bin.gz'))).arrayBuffer());
  // a server may already have undone the gzip (Content-Encoding); the magic bytes say
  if (bytes[0] === 0x1f && bytes[1] === 0x8b)
    bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  const count = meta.counts.reduce((a, b) => a + b, 0);
  if (bytes.length !== count * meta.size * meta.size * meta.channels)
    throw new Error(`the shipped training digits are damaged: ${bytes.length} bytes for ${count} digits`);
  const names = meta.counts.flatMap((c, label) => Array.from({ length: c }, () => String(label)));
  return {
    values: bytes,
    counts: meta.counts,
    names,
    size: meta.size,
    channels: meta.channels,
    description: `the ${count.toLocaleString('en')} MNIST digits the shipped model was trained on`,
  };
}
