/** An error from a backend, explained with what to do about it. */
export function explainFailure(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  if (/device (was )?lost|GPUDevice.*lost|context lost|CONTEXT_LOST/i.test(text))
    return `the GPU device was lost (${text}). Your last checkpoint is safe: reload the page to resume, or pick another backend (?backend=wasm).`;
  if (/out of memory|OOM|allocation failed|Failed to allocate|RangeError: Array buffer allocation/i.test(text))
    return `ran out of memory (${text}). Try a smaller batch, the tiny model, or another backend (?backend=wasm).`;
  return text;
}
