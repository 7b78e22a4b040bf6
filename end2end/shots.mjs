// Screenshots of the dashboard's pages, light and dark, wide and narrow.
// Not a test: `node shots.mjs <base url> <out dir>` against a running server
// with the demo account.
import { chromium, request } from "playwright";
import { createHmac } from "crypto";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = process.argv[3] ?? "/tmp/shots";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// Set-up through the API, once: an invite link to open signed out, and a
// fork's pull request waiting for approval on the first site.
const api = await request.newContext({ baseURL: base });
await api.post("/api/sign_in", { form: { email: "demo@flightdeck.dev", password: "flightdeck-demo" } });
const invite = await (await api.post("/api/create_invite", { form: { role: "member" } })).json();
const [first, second] = await (await api.post("/api/list_sites")).json();
await api.post("/api/update_site", { form: { site_id: first.id, auto_deploy: "on", previews: "on" } });
const hooks = await (await api.post("/api/get_site_hooks", { form: { id: first.id } })).json();
const body = JSON.stringify({
  action: "opened", number: 12,
  pull_request: {
    html_url: "https://github.com/acme/site/pull/12", user: { login: "mallory" },
    head: { ref: "fix-typo", sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", repo: { full_name: "mallory/site" } },
    base: { ref: "main", repo: { full_name: "acme/site" } },
  },
});
const waiting = await (await api.post(`/hooks/github/${first.id}`, {
  data: body,
  headers: {
    "content-type": "application/json", "x-github-event": "pull_request",
    "x-github-delivery": `shots-${Date.now()}`,
    "x-hub-signature-256": "sha256=" + createHmac("sha256", hooks.secret).update(body).digest("hex"),
  },
})).json();

// The second site deploys again (its first deploy becomes one to roll back
// to), then is locked.
const finished = async (id) => {
  for (;;) {
    const d = await (await api.post("/api/get_deployment", { form: { id } })).json();
    if (!["queued", "running"].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 250));
  }
};
let earlier = (await (await api.post("/api/get_site", { form: { id: second.id } })).json()).current_deployment;
while (!earlier) {
  await new Promise((r) => setTimeout(r, 250));
  earlier = (await (await api.post("/api/get_site", { form: { id: second.id } })).json()).current_deployment;
}
const again = await (await api.post("/api/trigger_deployment", { form: { site_id: second.id, kind: "deploy" } })).json();
await finished(again.id);
await api.post("/api/lock_site", { form: { site_id: second.id, reason: "Release freeze until the launch on Monday" } });

for (const scheme of ["light", "dark"]) {
  for (const width of [1280, 390]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/signin`);
    await page.getByLabel("Email").fill("demo@flightdeck.dev");
    await page.getByLabel("Password").fill("flightdeck-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    await page.waitForSelector("body[data-hydrated]");
    const shot = async (name) => page.screenshot({ path: `${out}/${name}-${scheme}-${width}.png`, fullPage: true });
    await shot("deployments");
    await page.goto(`${base}/sites`);
    await shot("sites");
    const site = await page.locator("a[href^='/sites/0']").first().getAttribute("href");
    await page.goto(`${base}${site}`);
    await shot("site");
    await page.goto(`${base}/`);
    const deployment = await page.locator("a[href^='/deployments/0']").first().getAttribute("href");
    await page.goto(`${base}${deployment}`);
    await shot("deployment");
    await page.goto(`${base}/deployments/${waiting.deployment_id}`);
    await shot("deployment-waiting");
    await page.goto(`${base}/sites/${second.id}`);
    await page.waitForSelector("body[data-hydrated]");
    await shot("site-locked");
    await page.goto(`${base}/deployments/${earlier.id}`);
    await page.waitForSelector("body[data-hydrated]");
    await shot("deployment-rollback");
    await page.goto(`${base}/team`);
    await page.waitForSelector("body[data-hydrated]");
    await page.getByRole("button", { name: "Create invite link" }).click();
    await page.getByLabel("Invite link").waitFor();
    await page.getByLabel("Screen name").fill(`Office TV ${scheme} ${width}`);
    await page.getByRole("button", { name: "Create wallboard link" }).click();
    await page.getByRole("textbox", { name: "Wallboard link" }).waitFor();
    await shot("team");
    await page.goto(`${base}/insights`);
    await page.waitForSelector("body[data-hydrated]");
    await shot("insights");
    await page.goto(`${base}/insights?days=7&site=${first.id}`);
    await shot("insights-site-7-days");
    await page.goto(`${base}/account`);
    await shot("account");
    await context.close();
    const stranger = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 900 } });
    const guest = await stranger.newPage();
    const guestShot = async (name) => guest.screenshot({ path: `${out}/${name}-${scheme}-${width}.png`, fullPage: true });
    await guest.goto(invite.url);
    await guest.waitForSelector("body[data-hydrated]");
    await guestShot("signup-invite");
    await guest.goto(`${base}/signup`);
    await guest.waitForSelector("body[data-hydrated]");
    await guestShot("signup");
    await stranger.close();
  }
}
await browser.close();
