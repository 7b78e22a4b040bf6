import { defineConfig } from "@playwright/test";
import * as path from "path";

// The built server binary and its assets; ./dev test passes both.
const bin = process.env.FLIGHTDECK_BIN ?? path.join(process.env.HOME ?? "", ".cache/flightdeck/target/debug/flightdeck");
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.resolve(__dirname, "../target/site");
const port = Number(process.env.FLIGHTDECK_E2E_PORT ?? 3100);
const dataDir = path.resolve(__dirname, ".data");
// A second server with the compiled-in pipelines: real git fetches, builds and previews.
const realPort = Number(process.env.FLIGHTDECK_E2E_REAL_PORT ?? 3101);
const realDataDir = path.resolve(__dirname, ".data-real");

export default defineConfig({
  testDir: "./tests",
  timeout: 45_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [{
    // A fresh SQLite database (and demo account) for every run.
    command: `rm -rf "${dataDir}" && mkdir -p "${dataDir}" && exec "${bin}"`,
    url: `http://127.0.0.1:${port}/signin`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      FLIGHTDECK_DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      FLIGHTDECK_PIPELINES: path.resolve(__dirname, "pipelines.toml"),
      // Strangers sign up in the tests; the demo account signs in.
      FLIGHTDECK_SIGNUP: "open",
      FLIGHTDECK_DEMO: "1",
      // Notification hooks reach the tests' receivers on loopback.
      FLIGHTDECK_HOOKS_ALLOW_PRIVATE: "1",
      RUST_LOG: "warn",
    },
  }, {
    command: `rm -rf "${realDataDir}" && mkdir -p "${realDataDir}/repos" && exec "${bin}"`,
    url: `http://127.0.0.1:${realPort}/signin`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      FLIGHTDECK_DATA_DIR: realDataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${realPort}`,
      LEPTOS_SITE_ROOT: siteRoot,
      FLIGHTDECK_PREVIEW_URL: `http://{id}.preview.localhost:${realPort}/`,
      FLIGHTDECK_SIGNUP: "open",
      FLIGHTDECK_DEMO: "1",
      RUST_LOG: "warn",
    },
  }],
});
