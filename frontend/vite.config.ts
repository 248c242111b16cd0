import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The dev server forwards the API and the live connection to a locally running server.
const backend = process.env.MISSION_CONTROL_URL ?? 'http://127.0.0.1:3002';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/health': { target: backend, changeOrigin: true },
      '/socket.io': { target: backend, changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
