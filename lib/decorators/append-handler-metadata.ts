/**
 * A method decorator that appends `values` to the list stored under `key` on the method, so
 * that stacked decorators add up. Names are checked at bootstrap, not here, so that a typo
 * fails the app with the full list of valid ones.
 */
export function appendHandlerMetadata(key: string, values: readonly string[]): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing: readonly string[] = Reflect.getMetadata(key, method) ?? [];
    Reflect.defineMetadata(key, [...existing, ...values], method);
    return descriptor;
  };
}
