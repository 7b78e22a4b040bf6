// Screenshots of the wallboard, dark and light, at 1920×1080 and 1280×720,
// with failing, running, queued, locked and healthy sites. Not a test:
//   node wallboard-shots.mjs <base url> <out dir> [sites]
// against a server started with FLIGHTDECK_SIGNUP=open and this folder's
// pipelines.toml (its `slow-*` and `broken-*` branches).
import { chromium, request } from "playwright";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = process.argv[3] ?? "/tmp/shots";
const count = Number(process.argv[4] ?? 12);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const id = Date.now().toString(36);
const api = await request.newContext({ baseURL: base });
const post = async (name, form) => {
  const res = await api.post(`/api/${name}`, { form });
  if (!res.ok()) throw new Error(`${name}: ${res.status()} ${await res.text()}`);
  return res.json();
};
await post("sign_up", { email: `tv-${id}@example.com`, password: "correct horse battery", name: "Tess Vance", team: "Acme Platform" });
const names = ["Marketing site", "Docs", "Checkout", "API gateway", "Status page", "Blog", "Careers",
  "Help center", "Dashboard", "Pricing", "Landing EU", "Landing US", "Partner portal", "Changelog"];
const sites = [];
for (let i = 0; i < count; i++) {
  const name = i < names.length ? names[i] : `Microsite ${String(i + 1).padStart(2, "0")}`;
  sites.push(await post("create_site", { name, repository: `https://github.com/acme/${name.toLowerCase().replace(/\W+/g, "-")}`, branch: "main" }));
}
const idle = async () => {
  for (;;) {
    const list = await post("list_sites", {});
    if (list.every((s) => !s.active_deployment && s.current_deployment)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
};
await idle();
// One broken, two running, one waiting behind a running one.
await post("trigger_deployment", { site_id: sites[2].id, kind: "deploy", git_ref: "broken-cart" });
await new Promise((r) => setTimeout(r, 1500));
await post("trigger_deployment", { site_id: sites[0].id, kind: "deploy", git_ref: "slow-redesign" });
await post("trigger_deployment", { site_id: sites[3].id, kind: "deploy", git_ref: "slow-rate-limits" });
if (sites[5]) await post("trigger_deployment", { site_id: sites[5].id, kind: "stop" });
// One locked: a release freeze.
await post("lock_site", { site_id: sites[1].id, reason: "Release freeze until Monday" });
const link = await post("create_wallboard_link", { name: "Office TV" });
await new Promise((r) => setTimeout(r, 6000));
for (const theme of ["dark", "light"]) {
  for (const [width, height] of [[1920, 1080], [1280, 720]]) {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(theme === "light" ? `${link.url}?theme=light` : link.url);
    await page.waitForSelector("body[data-hydrated]");
    await page.waitForTimeout(1200);
    await page.screenshot({ path: `${out}/wallboard-${count}-${theme}-${width}.png` });
    await context.close();
  }
}
console.log(link.url);
await browser.close();
