// Module resolution hook (see test-name-filter.mjs): uvu resolves to the filtering wrapper, however
// a test file names it, except for the wrapper itself, which needs the real module.
const WRAPPER = new URL('./test-name-filter-uvu.mjs', import.meta.url).href;
// Matched by its end: node_modules may be a symbolic link (a git worktree's), which resolves elsewhere.
const UVU = '/node_modules/uvu/dist/index.mjs';

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.endsWith(UVU) && context.parentURL !== WRAPPER) return { url: WRAPPER, shortCircuit: true };
  return resolved;
}
