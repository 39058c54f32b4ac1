// Module resolution hook (see test-name-filter.mjs): uvu resolves to the filtering wrapper, however
// a test file names it, except for the wrapper itself, which needs the real module.
const WRAPPER = new URL('./test-name-filter-uvu.mjs', import.meta.url).href;
const UVU = new URL('../node_modules/uvu/dist/index.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url === UVU && context.parentURL !== WRAPPER) return { url: WRAPPER, shortCircuit: true };
  return resolved;
}
