// Screenshots of every page, light and dark, 1280 and 390 px wide, for
// reviewing the design by eye (not a test). Against a running server:
//   BASE=http://127.0.0.1:3000 OUT=/tmp/shots node end2end/screenshots.mjs
import { chromium } from "@playwright/test";
const base = process.env.BASE ?? "http://127.0.0.1:3400";
const out = process.env.OUT ?? "/tmp/shots";
const pages = (process.env.PAGES ?? "/signin,/signup,/,/sites,/team").split(",");
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
for (const scheme of ["light", "dark"]) {
  for (const width of [1280, 390]) {
    const ctx = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: scheme, javaScriptEnabled: process.env.JS !== "0" });
    const page = await ctx.newPage();
    await page.goto(base + "/signin");
    const email = page.getByLabel("Email");
    await email.fill(process.env.EMAIL ?? "demo@flightdeck.dev");
    await page.getByLabel("Password").fill(process.env.PASSWORD ?? "flightdeck-demo");
    for (const p of pages) {
      if (p === "/signin" || p === "/signup") {
        const anon = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: scheme });
        const ap = await anon.newPage();
        await ap.goto(base + p);
        await ap.screenshot({ path: `${out}/${p.replaceAll("/", "_") || "_"}-${scheme}-${width}.png`, fullPage: true });
        await anon.close();
      }
    }
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(base + "/");
    for (const p of pages.filter((p) => p !== "/signin" && p !== "/signup")) {
      await page.goto(base + p);
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${out}/${p.replaceAll("/", "_") || "_root"}-${scheme}-${width}.png`, fullPage: true });
    }
    await ctx.close();
  }
}
await browser.close();
