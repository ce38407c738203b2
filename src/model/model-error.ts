/** A model file the engine cannot load, with the reason (a file is data: it is read, never run). */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}
