// One script and one stylesheet with fixed names, which the server embeds (src/http/web_client.rs).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: false,
    rollupOptions: {
      output: {
        entryFileNames: 'main.js',
        assetFileNames: (asset) => (asset.names.some((n) => n.endsWith('.css')) ? 'style.css' : '[name][extname]'),
        inlineDynamicImports: true,
      },
    },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
} as Parameters<typeof defineConfig>[0]);
