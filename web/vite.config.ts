import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// The API serves web/dist at "/" and the page talks to it on the same origin.
// In `npm run dev` the dev server forwards /api (HTTP and the live WebSocket) to
// a locally running `headway demo`.
export default defineConfig({
  base: "/",
  plugins: [vue()],
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // MapLibre is one large module by design; splitting it buys nothing here.
    chunkSizeWarningLimit: 1500,
  },
});
