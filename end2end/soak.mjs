// The wallboard's soak benchmark: a wallboard open in Chromium while
// 10,000 events stream and the server restarts 5 times. It reports the
// page's JS heap, DOM nodes and listeners at the start and at the end
// (after a forced garbage collection each time), and whether the soaked
// board equals a fresh load of it. Not a test: run it, read the numbers.
//
//   node soak.mjs [events] [restarts]
//
// FLIGHTDECK_BIN and LEPTOS_SITE_ROOT as for the Playwright suite.
import { chromium, request } from "playwright";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const targetEvents = Number(process.argv[2] ?? 10_000);
const restarts = Number(process.argv[3] ?? 5);
const siteCount = 12;
const bin = process.env.FLIGHTDECK_BIN ?? path.join(os.homedir(), ".cache/flightdeck/target/debug/flightdeck");
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.resolve(import.meta.dirname, "../target/site");
const port = 3400 + Math.floor(Math.random() * 100);
const base = `http://127.0.0.1:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-soak-"));
const pipelines = path.join(dataDir, "pipelines.toml");
// A deploy of three quick steps that write a few lines each: about a
// dozen events per deployment, as a busy team's would be.
fs.writeFileSync(pipelines, `
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Install"
phase = "build"
run = 'for i in 1 2 3; do echo "fetching package $i"; done'
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'for i in 1 2 3 4; do echo "compiling module $i"; sleep 0.05; done'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'echo published'
`);

let server;
async function start() {
  server = spawn(bin, [], {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      FLIGHTDECK_DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      FLIGHTDECK_PIPELINES: pipelines,
      FLIGHTDECK_SIGNUP: "open",
      RUST_LOG: "error",
    },
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/signin`)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error("the server did not start");
}
async function stop() {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await start();
const api = await request.newContext({ baseURL: base });
const post = async (name, form = {}) => {
  const res = await api.post(`/api/${name}`, { form });
  return { status: res.status(), body: await res.json().catch(() => null) };
};
const must = async (name, form) => {
  const { status, body } = await post(name, form);
  if (status !== 200) throw new Error(`${name}: ${status} ${JSON.stringify(body)}`);
  return body;
};
await must("sign_up", { email: "soak@example.com", password: "correct horse battery", name: "Soak Test", team: "Soak" });
const sites = [];
for (let i = 1; i <= siteCount; i++) {
  sites.push((await must("create_site", { name: `Site ${i}`, repository: `https://github.com/acme/s${i}`, branch: "main" })).id);
}
const idle = async () => {
  for (;;) {
    const list = await must("list_sites");
    if (list.every((s) => !s.active_deployment)) return;
    await sleep(250);
  }
};
await idle();
const link = await must("create_wallboard_link", { name: "Soak TV" });
const position = async () => (await must("get_wallboard", { token: link.url.split("/wallboard/")[1] })).position;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
// Keep a handle on the page's WebAssembly memory, to read its size.
await context.addInitScript(() => {
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = async (...args) => {
      const made = await original.apply(WebAssembly, args);
      window.__wasmMemory = (made.instance ?? made).exports?.memory;
      return made;
    };
  }
});
const page = await context.newPage();
await page.goto(link.url);
await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
await page.getByText("Live", { exact: true }).waitFor();
await sleep(2000);
const cdp = await context.newCDPSession(page);
await cdp.send("Performance.enable");
const metrics = async () => {
  await cdp.send("HeapProfiler.collectGarbage");
  await sleep(300);
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  // The WebAssembly memory is outside the JS heap; it grows and never
  // shrinks, so its size is the page's high-water mark.
  const wasm = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? null);
  return { heap: m.JSHeapUsedSize, wasm, nodes: m.Nodes, listeners: m.JSEventListeners };
};
const before = await metrics();
const startPosition = await position();
console.log(`start: ${JSON.stringify(before)} at position ${startPosition}`);

// Stream: keep every site deploying; restart the server at even steps.
const began = Date.now();
let deploys = 0;
let done = 0;
let restarted = 0;
let now = startPosition;
while (now - startPosition < targetEvents) {
  const due = Math.floor(((now - startPosition) / targetEvents) * (restarts + 1));
  if (restarted < restarts && due > restarted) {
    await stop();
    await sleep(1500);
    await start();
    restarted++;
    const wasm = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? null);
    console.log(`restart ${restarted} at ${now - startPosition} events; wasm memory ${wasm}`);
  }
  const answers = await Promise.all(sites.map((site) =>
    post("trigger_deployment", { site_id: site, kind: "deploy", git_ref: `soak-${deploys++}` }).catch(() => ({ status: 0 }))));
  done += answers.filter((a) => a.status === 200).length;
  await sleep(150);
  now = await position().catch(() => now);
}
// One last deploy of every site, so each ends healthy, then let it settle.
await idle();
for (const site of sites) await must("trigger_deployment", { site_id: site, kind: "deploy", git_ref: "soak-final" });
await idle();
const endPosition = await position();
await sleep(3000);
const seconds = (Date.now() - began) / 1000;
const after = await metrics();

// The soaked board against a fresh load, times left out (they tick).
const board = (p) => p.evaluate(() => {
  const clean = (s) => s.replace(/just now|\d+ (s|min|h) ago|\d+m \d+s|\d+s\b/g, "").replace(/\s+/g, " ").trim();
  return {
    tiles: [...document.querySelectorAll(".tile")].map((t) => `${t.dataset.site ?? "fold"}|${t.dataset.state ?? ""}|${clean(t.innerText)}`),
    counts: clean(document.querySelector(".wb-counts")?.innerText ?? ""),
    recent: clean(document.querySelector(".wb-recent")?.innerText ?? ""),
  };
});
const soaked = await board(page);
const fresh = await context.newPage();
await fresh.goto(link.url);
await fresh.locator("body[data-hydrated]").waitFor({ state: "attached" });
await sleep(1500);
const reloaded = await board(fresh);
const same = JSON.stringify(soaked) === JSON.stringify(reloaded);
const change = (a, b) => `${(((b - a) / a) * 100).toFixed(1)}%`;
const result = {
  events: endPosition - startPosition,
  deployments: done + sites.length,
  restarts: restarted,
  seconds: Number(seconds.toFixed(1)),
  start: before,
  end: after,
  heap_change: change(before.heap, after.heap),
  wasm_change: before.wasm ? change(before.wasm, after.wasm) : null,
  nodes_change: change(before.nodes, after.nodes),
  listeners_change: change(before.listeners, after.listeners),
  final_board_equals_fresh_load: same,
};
console.log(JSON.stringify(result, null, 2));
if (!same) console.log(JSON.stringify({ soaked, reloaded }, null, 2));
await browser.close();
await stop();
fs.rmSync(dataDir, { recursive: true, force: true });
const within = (a, b) => Math.abs(b - a) / a <= 0.2;
const wasmOk = !before.wasm || within(before.wasm, after.wasm);
process.exit(same && wasmOk && within(before.heap, after.heap) && within(before.nodes, after.nodes) ? 0 : 1);
