/** A model configuration the engine cannot use, with the field and the reason. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}
