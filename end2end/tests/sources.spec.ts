import { test, expect, Page, BrowserContext } from "@playwright/test";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { open, signUp, unique, statusBadge } from "./helpers";

// The second server of playwright.config.ts runs the compiled-in pipelines:
// real git fetches, builds and previews. The dashboard is opened on
// `localhost`, so its cookie would reach `*.preview.localhost` if it were
// ever scoped to the domain.
const port = Number(process.env.FLIGHTDECK_E2E_REAL_PORT ?? 3101);
const dataDir = path.resolve(__dirname, "../.data-real");
test.use({ baseURL: `http://localhost:${port}` });

function git(dir: string, ...args: string[]) {
  execFileSync("git", ["-c", "user.name=E2E", "-c", "user.email=e2e@example.com", ...args], { cwd: dir });
}

/** The signed-in team's id. */
async function teamId(page: Page): Promise<string> {
  const res = await page.request.post("/api/current_session");
  return (await res.json()).team.id;
}

/** A repository in the team's folder under the server's repos/, with one page. */
function repository(team: string, name: string, heading: string): string {
  const dir = path.join(dataDir, "repos", team, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "index.html"), `<!doctype html><title>${heading}</title><h1>${heading}</h1>`);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "First page");
  return dir;
}

/** A zip with one index.html, made by Python's zipfile. */
function zip(heading: string): Buffer {
  const out = path.join(dataDir, `upload-${unique()}.zip`);
  execFileSync("python3", [
    "-c",
    "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('site/index.html', sys.argv[2])",
    out,
    `<!doctype html><title>${heading}</title><h1>${heading}</h1>`,
  ]);
  return fs.readFileSync(out);
}

async function waitReady(page: Page) {
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 30_000 });
}

/** Clicks Preview and returns the new tab, checking the dashboard's cookie never went with it. */
async function openPreview(context: BrowserContext, page: Page): Promise<Page> {
  const cookies: string[] = [];
  context.on("request", async (req) => {
    if (new URL(req.url()).hostname.endsWith(".preview.localhost")) {
      const cookie = (await req.allHeaders())["cookie"];
      if (cookie) cookies.push(cookie);
    }
  });
  const [tab] = await Promise.all([context.waitForEvent("page"), page.getByRole("link", { name: "Preview" }).click()]);
  await tab.waitForLoadState();
  expect(new URL(tab.url()).hostname).toMatch(/^[0-9a-z]{26}\.preview\.localhost$/);
  expect(await tab.evaluate(() => document.cookie)).toBe("");
  expect(cookies).toEqual([]);
  return tab;
}

test("a site from a local repository deploys by itself; uploads and redeploys keep every preview", async ({ page, context }) => {
  const id = unique();
  const name = `Shop ${id}`;
  await signUp(page, { name: "Ada", email: `ada-${id}@example.com`, password: "correct horse", team: `Team ${id}` });
  await expect(page).toHaveURL(/\/$/);
  const repo = repository(await teamId(page), `shop-${id}`, `Hello from ${name}`);

  // Create the site: its first deploy runs by itself to ready.
  await open(page, "/sites/new");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Repository").fill(repo);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const history = page.getByRole("region", { name: "History" });
  const firstRow = history.getByRole("row").filter({ hasText: "Deploy main" });
  await expect(firstRow).toContainText("ready", { timeout: 30_000 });
  await firstRow.getByRole("link", { name: "Deploy main" }).click();
  await waitReady(page);
  const commit = execFileSync("git", ["rev-parse", "--short=7", "HEAD"], { cwd: repo }).toString().trim();
  await expect(page.getByRole("main")).toContainText(commit);
  const firstUrl = page.url();

  const first = await openPreview(context, page);
  await expect(first.getByRole("heading", { level: 1 })).toHaveText(`Hello from ${name}`);
  const firstPreview = first.url();
  await first.close();

  // Upload a zip: it deploys the same way and becomes current.
  await page.getByRole("link", { name }).first().click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await page.locator("body[data-hydrated]").waitFor();
  await page.locator('input[name="archive"]').setInputFiles({ name: "site.zip", mimeType: "application/zip", buffer: zip(`Zipped ${name}`) });
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  await waitReady(page);
  await expect(page.getByRole("main")).toContainText("Archive upload");
  await expect(page.getByRole("main")).toContainText("site.zip");
  const zipped = await openPreview(context, page);
  await expect(zipped.getByRole("heading", { level: 1 })).toHaveText(`Zipped ${name}`);
  await zipped.close();

  // The first deploy is superseded; its preview still serves its own page.
  await page.goto(firstUrl);
  await expect(statusBadge(page)).toHaveText("superseded");
  const again = await context.newPage();
  await again.goto(firstPreview);
  await expect(again.getByRole("heading", { level: 1 })).toHaveText(`Hello from ${name}`);
  await again.close();

  // Redeploy it: the new one is ready and the upload is superseded in turn.
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Redeploy" }).click();
  await expect(page).not.toHaveURL(firstUrl);
  await waitReady(page);
  const redeployed = await openPreview(context, page);
  await expect(redeployed.getByRole("heading", { level: 1 })).toHaveText(`Hello from ${name}`);
});

test("a time capsule restores what the site served, and a clone serves the same files", async ({ page, context }) => {
  const id = unique();
  const name = `Docs ${id}`;
  await signUp(page, { name: "Ada", email: `ada-c-${id}@example.com`, password: "correct horse", team: `Team C ${id}` });
  await expect(page).toHaveURL(/\/$/);
  const repo = repository(await teamId(page), `docs-${id}`, `First ${name}`);
  await open(page, "/sites/new");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Repository").fill(repo);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const siteUrl = page.url();
  const history = page.getByRole("region", { name: "History" });
  await expect(history.getByRole("row").filter({ hasText: "Deploy main" })).toContainText("ready", { timeout: 30_000 });

  // Take a capsule, then ship a second version.
  await page.getByRole("button", { name: "Take a time capsule" }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  await expect(statusBadge(page)).toHaveText("completed", { timeout: 30_000 });
  fs.writeFileSync(path.join(repo, "index.html"), `<!doctype html><h1>Second ${name}</h1>`);
  git(repo, "commit", "-qam", "Second");
  await open(page, siteUrl);
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await waitReady(page);

  // The site's own URL serves the second version; restoring brings the first back.
  await open(page, siteUrl);
  const served = page.getByRole("link", { name: /\.preview\.localhost/ });
  const url = (await served.getAttribute("href"))!;
  const site = await context.newPage();
  await site.goto(url);
  await expect(site.getByRole("heading", { level: 1 })).toHaveText(`Second ${name}`);
  await page.getByRole("listitem").filter({ hasText: "Capsule" }).getByRole("button", { name: "Restore" }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  await expect(statusBadge(page)).toHaveText("completed", { timeout: 30_000 });
  await site.reload();
  await expect(site.getByRole("heading", { level: 1 })).toHaveText(`First ${name}`);

  // A clone is a new site serving the same files.
  await open(page, siteUrl);
  await page.getByLabel("Name of the copy").fill(`${name} copy`);
  await page.getByRole("button", { name: "Clone", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: `${name} copy` })).toBeVisible();
  await expect(page.getByRole("region", { name: "History" }).getByRole("row").filter({ hasText: "Clone into" }))
    .toContainText("completed", { timeout: 30_000 });
  const cloneUrl = (await page.getByRole("link", { name: /\.preview\.localhost/ }).getAttribute("href"))!;
  await site.goto(cloneUrl);
  await expect(site.getByRole("heading", { level: 1 })).toHaveText(`First ${name}`);
});
