/**
 * Gives the WGSL of a kernel, `shaders/<family>/<kernel>.wgsl`. The sources are embedded at build
 * (scripts/embed-assets.mjs), so Node, Deno and browser bundles load them the same way, with no
 * file-system access. {@link setShaderLoader} replaces the table (tests inject broken shaders).
 */
import { SHADER_SOURCES } from '../../generated/embedded-assets.js';

/** Returns the WGSL source of a kernel named like `convolution/dense`. */
export type ShaderLoader = (name: string) => Promise<string>;

const embeddedLoader: ShaderLoader = async (name) => {
  const source = SHADER_SOURCES[name];
  if (source === undefined) throw new Error(`dyvedeep: no shader shaders/${name}.wgsl in this build`);
  return source;
};

let loader: ShaderLoader = embeddedLoader;

/** Replaces the loader; `undefined` restores the embedded sources. */
export function setShaderLoader(next: ShaderLoader | undefined): void {
  loader = next ?? embeddedLoader;
}

/** The WGSL source of kernel `name`. */
export function loadShader(name: string): Promise<string> {
  return loader(name);
}
