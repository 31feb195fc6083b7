import { defineConfig } from 'tsup'

/** Every published package builds the same way: ESM + CJS + .d.ts from src/index.ts. */
export const sharedTsupConfig = defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
