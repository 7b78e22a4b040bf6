// Screenshots of the deploy controls (a locked site, a deployment to roll
// back to, a removed preview), light and dark, wide and narrow. Not a test:
// `node shots-controls.mjs <base url> <out dir>` against a server with the
// demo account and end2end/pipelines.toml.
import { chromium, request } from "playwright";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = process.argv[3] ?? "/tmp/shots";
const api = await request.newContext({ baseURL: base });
await api.post("/api/sign_in", { form: { email: "demo@flightdeck.dev", password: "flightdeck-demo" } });
const [site] = await (await api.post("/api/list_sites")).json();
const finished = async (id) => {
  for (;;) {
    const d = await (await api.post("/api/get_deployment", { form: { id } })).json();
    if (!["queued", "running"].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 200));
  }
};
for (;;) {
  const s = await (await api.post("/api/get_site", { form: { id: site.id } })).json();
  if (!s.active_deployment) break;
  await new Promise((r) => setTimeout(r, 300));
}
const ids = [];
for (const ref of ["release-1", "release-2"]) {
  const d = await (await api.post("/api/trigger_deployment", { form: { site_id: site.id, kind: "deploy", git_ref: ref } })).json();
  ids.push((await finished(d.id)).id);
}
await api.post("/api/lock_site", { form: { site_id: site.id, reason: "Release freeze until the launch on Monday" } });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
for (const scheme of ["light", "dark"]) {
  for (const width of [1280, 390]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${base}/signin`);
    await page.getByLabel("Email").fill("demo@flightdeck.dev");
    await page.getByLabel("Password").fill("flightdeck-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    for (const [name, path] of [["site-locked", `/sites/${site.id}`], ["rollback", `/deployments/${ids[0]}`], ["sites", "/sites"]]) {
      await page.goto(`${base}${path}`);
      await page.locator("body[data-hydrated]").waitFor();
      await page.screenshot({ path: `${out}/${name}-${scheme}-${width}.png`, fullPage: true });
    }
    await context.close();
  }
}
await browser.close();
