import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer is plain static files: loaded from disk by Electron, served by `cronium serve` in a browser.
export default defineConfig({
  root: __dirname,
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
