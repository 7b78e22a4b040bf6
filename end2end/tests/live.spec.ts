import { test, expect, Page, Browser } from "@playwright/test";
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEMO, createSite, deploy, liveIndicator, statusBadge, unique } from "./helpers";

function step(page: Page, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByText(name, { exact: true }) });
}

async function signedIn(browser: Browser, base?: string) {
  const context = await browser.newContext(base ? { baseURL: base } : {});
  const page = await context.newPage();
  await page.goto("/signin");
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill(DEMO.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.locator("body[data-hydrated]").waitFor();
  return page;
}

test("an action in one browser updates another's list and detail page without a reload", async ({ browser }) => {
  const a = await signedIn(browser);
  const b = await signedIn(browser);
  const id = unique();
  const name = `Live ${id}`;
  const branch = `slow-live-${id}`;
  await createSite(a, name);
  await expect(liveIndicator(b)).toHaveText("Live");

  // B watches the history; A deploys. The new row appears on B's page by itself.
  await deploy(a, branch);
  const row = b.getByRole("row").filter({ hasText: `Deploy ${branch}` });
  await expect(row).toBeVisible();
  await expect(row).toContainText(name);
  await expect(row).toContainText(/step \d of 3/);

  // B opens it: the output grows as it is written.
  await row.getByRole("link", { name: `Deploy ${branch}` }).click();
  await expect(b.getByRole("heading", { level: 1, name: `Deploy ${branch}` })).toBeVisible();
  await expect(step(b, "Build").getByText("tick 3", { exact: true })).toBeVisible();
  await expect(step(b, "Build").getByText("tick 14", { exact: true })).toHaveCount(0);
  await expect(step(b, "Build").getByText("tick 14", { exact: true })).toBeVisible({ timeout: 15_000 });

  // A cancels; B's page follows, buttons included.
  await a.getByRole("button", { name: "Cancel" }).click();
  await expect(statusBadge(b)).toHaveText("cancelled");
  await expect(step(b, "Build")).toContainText("cancelled");
  await expect(step(b, "Publish")).toContainText("Did not run.");
  await expect(b.getByRole("button", { name: "Cancel" })).toHaveCount(0);
  await expect(b.getByRole("button", { name: "Retry" })).toBeVisible();
  await a.context().close();
  await b.context().close();
});

/** A Flightdeck of the test's own, so it can be stopped and started again. */
class OwnServer {
  process?: ChildProcess;
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-e2e-"));
  constructor(readonly port: number) {}
  get base() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start() {
    const bin = process.env.FLIGHTDECK_BIN ?? path.join(os.homedir(), ".cache/flightdeck/target/debug/flightdeck");
    this.process = spawn(bin, [], {
      stdio: "ignore",
      env: {
        ...process.env,
        FLIGHTDECK_DATA_DIR: this.dataDir,
        LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`,
        LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.resolve(__dirname, "../../target/site"),
        FLIGHTDECK_PIPELINES: path.resolve(__dirname, "../pipelines.toml"),
        FLIGHTDECK_DEMO: "1",
        RUST_LOG: "warn",
      },
    });
    await expect(async () => {
      const res = await fetch(`${this.base}/signin`);
      expect(res.ok).toBeTruthy();
    }).toPass({ timeout: 20_000 });
  }
  async stop() {
    const p = this.process;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGKILL");
    await exited;
  }
}

test("after the server restarts, the page says it is reconnecting, then matches a fresh reload", async ({ browser }) => {
  const server = new OwnServer(3100 + 50 + Math.floor(Math.random() * 40));
  await server.start();
  try {
    const page = await signedIn(browser, server.base);
    const name = `Restart ${unique()}`;
    await createSite(page, name);
    await deploy(page, "slow-restart");
    await expect(step(page, "Build")).toContainText("running", { timeout: 15_000 });
    await expect(liveIndicator(page)).toHaveText("Live");

    // The server dies mid-step, then starts again.
    await server.stop();
    await expect(liveIndicator(page)).toHaveText("Reconnecting…");
    await server.start();
    await expect(liveIndicator(page)).toHaveText("Live", { timeout: 30_000 });

    // The restart failed the interrupted deployment; the page shows it without a reload.
    await expect(statusBadge(page)).toHaveText("failed");
    await expect(page.getByText(/The instance running it stopped during step 2/)).toBeVisible();
    const live = await page.locator("main").innerText();
    await page.reload();
    await page.locator("body[data-hydrated]").waitFor();
    const fresh = await page.locator("main").innerText();
    // Relative times may have ticked over; everything else is the same.
    const strip = (s: string) => s.replace(/just now|\d+ s ago|\d+ min ago/g, "").replace(/\s+/g, " ");
    expect(strip(live)).toBe(strip(fresh));
    await page.context().close();
  } finally {
    await server.stop();
  }
});
