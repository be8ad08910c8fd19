/**
 * Loads the WGSL of a kernel, `shaders/<family>/<kernel>.wgsl`, as a string. Node and Deno read the
 * file from the package; a browser bundle installs its own loader (vite `?raw` imports) with
 * {@link setShaderLoader}, so the library pulls in no Node built-ins there.
 */

/** Returns the WGSL source of a kernel named like `convolution/dense`. */
export type ShaderLoader = (name: string) => Promise<string>;

const fileLoader: ShaderLoader = async (name) => {
  const [{ readFile }, { packageFile }] = await Promise.all([import('node:fs/promises'), import('../../package-root.js')]);
  return readFile(packageFile(`shaders/${name}.wgsl`), 'utf8');
};

let loader: ShaderLoader = fileLoader;

/** Replaces the loader (a browser bundle's table of imported sources). */
export function setShaderLoader(next: ShaderLoader): void {
  loader = next;
}

/** The WGSL source of kernel `name`. */
export function loadShader(name: string): Promise<string> {
  return loader(name);
}
