import { createRequire } from 'node:module';

/**
 * Loads one of the AWS SDK's CommonJS packages. From lib/ (ES modules on the user's Node),
 * `import()` of a CommonJS file costs a compile to detect its format and a scan for its named
 * exports (cjs-module-lexer) on top of the compile proper: about 60 ms of connect's start-up for
 * the SSM client alone, where `require()` does neither. In the single executable (one CommonJS
 * bundle, where `require` is defined) `bundled` — the same package as an `import()` that esbuild
 * bundles — is used instead.
 */
export async function loadCommonJs<T>(name: string, bundled: () => Promise<T>): Promise<T> {
  if (typeof require === 'function') return bundled();
  return createRequire(import.meta.url)(name) as T;
}
