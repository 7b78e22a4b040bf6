// Screenshots of the dashboard's pages, light and dark, wide and narrow.
// Not a test: `node shots.mjs <base url> <out dir>` against a running server
// with the demo account.
import { chromium } from "playwright";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = process.argv[3] ?? "/tmp/shots";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
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
    await context.close();
  }
}
await browser.close();
