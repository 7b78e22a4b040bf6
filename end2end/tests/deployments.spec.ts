import { test, expect, Page } from "@playwright/test";
import { DEMO, createSite, deploy, open, reloadUntil, signInDemo, signIn, signUp, statusBadge, unique, waitSiteIdle } from "./helpers";

function step(page: Page, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByText(name, { exact: true }) });
}

test("deploy a site from GitHub, find it in the list and read every field of its page", async ({ page }) => {
  await signInDemo(page);
  // The demo sites deploy from local repositories; this one names GitHub,
  // so its commit links there.
  const site = `Landing ${unique()}`;
  const slug = site.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  await createSite(page, site);
  await deploy(page, "abcdef1234");
  const id = page.url().split("/").pop()!;

  await reloadUntil(page, () => expect(statusBadge(page)).toHaveText("ready", { timeout: 200 }));
  await expect(page.getByRole("heading", { level: 1, name: "Deploy abcdef1" })).toBeVisible();
  const details = page.getByRole("region", { name: "Details" });
  await expect(details.getByRole("link", { name: "abcdef1" })).toHaveAttribute(
    "href",
    `https://github.com/acme/${slug}/commit/abcdef1234`,
  );
  await expect(details).toContainText("Demo User");
  await expect(details).toContainText("Build duration");
  await expect(details.getByRole("link", { name: site })).toBeVisible();
  await expect(page.getByText(id.slice(-8).toLowerCase()).first()).toBeVisible();
  for (const name of ["Install", "Build", "Publish"]) {
    await expect(step(page, name)).toContainText("completed");
  }
  // Output is folded until opened; its colours are rendered.
  await step(page, "Build").getByText("Build", { exact: true }).click();
  await expect(step(page, "Build").getByText("info")).toHaveClass(/ansi-fg-6/);
  await expect(page.getByRole("button", { name: "Redeploy" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Cancel" })).toHaveCount(0);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deployments" }).click();
  const row = page.getByRole("row").filter({ hasText: "Deploy abcdef1" }).first();
  await expect(row).toContainText(site);
  await expect(row).toContainText("Demo User");
  await expect(row).toContainText("ready");
  await row.getByRole("link", { name: "Deploy abcdef1" }).click();
  await expect(page).toHaveURL(new RegExp(`/deployments/${id}$`));

  // Filters live in the URL.
  await open(page, "/");
  await page.getByLabel("Type").selectOption("restart");
  await expect(page).toHaveURL(/\?type=restart$/);
  await expect(page.getByText("Nothing matches these filters")).toBeVisible();
});

test("create a site, then cancel a running deploy: the running step is cancelled, the queued ones stay queued", async ({ page }) => {
  await signInDemo(page);
  const name = `Shop ${unique()}`;
  await createSite(page, name);
  await expect(page.getByRole("region", { name: "History" })).toContainText("Deploy main");
  await expect(page.getByRole("region", { name: "History" })).toContainText(`Create ${name}`);

  await deploy(page, "slow-build");
  await reloadUntil(page, () => expect(step(page, "Build")).toContainText("running", { timeout: 200 }));
  await expect(statusBadge(page)).toHaveText("building");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(statusBadge(page)).toHaveText("cancelled");
  await expect(step(page, "Install")).toContainText("completed");
  await expect(step(page, "Build")).toContainText("cancelled");
  await expect(step(page, "Publish")).toContainText("queued");
  await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();
});

test("a failed deploy shows its error and failing step, and retry runs it again", async ({ page }) => {
  await signInDemo(page);
  await createSite(page, `Blog ${unique()}`);
  // While the site is busy, Deploy is disabled with the reason.
  await deploy(page, "broken-build");
  const failedUrl = page.url();
  await reloadUntil(page, () => expect(statusBadge(page)).toHaveText("failed", { timeout: 200 }));
  await expect(page.getByText(/Failed: .*Build/)).toBeVisible();
  await expect(step(page, "Build").getByText("build exploded")).toBeVisible();
  await expect(step(page, "Publish")).toContainText("Did not run.");

  await page.getByRole("button", { name: "Retry" }).click();
  await expect(page).not.toHaveURL(failedUrl);
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  await expect(page.getByRole("region", { name: "Details" }).getByText("Runs again")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Deploy broken-build" })).toBeVisible();
});

test("a busy site's Deploy button is disabled and says why", async ({ page }) => {
  await signInDemo(page);
  await createSite(page, `Busy ${unique()}`);
  await deploy(page, "slow-hold");
  const deployment = page.url();
  await page.getByRole("link", { name: /^Busy / }).first().click();
  await expect(page.getByRole("button", { name: "Deploy", exact: true })).toBeDisabled();
  await expect(page.getByRole("status")).toContainText("Deploy slow-hold");
  await page.goto(deployment);
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(statusBadge(page)).toHaveText("cancelled");
});

test("a viewer sees no action buttons and a forged call is refused", async ({ page, browser }) => {
  const id = unique();
  const viewer = { name: "Vera Viewer", email: `vera-${id}@example.com`, password: "correct horse battery", team: `Vera ${id}` };
  const viewerContext = await browser.newContext();
  const vpage = await viewerContext.newPage();
  await signUp(vpage, viewer);
  await expect(vpage).toHaveURL(/\/$/);

  await signInDemo(page);
  await open(page, "/team");
  await page.getByLabel("Email").fill(viewer.email);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("status")).toHaveText("Member added.");
  await open(page, "/");
  const firstLink = page.getByRole("row").nth(1).getByRole("link").first();
  const href = (await firstLink.getAttribute("href"))!;

  await open(vpage, "/");
  await vpage.getByLabel("Team").selectOption({ label: DEMO.team });
  // Switching reloads the page into the demo team, whose history is not empty.
  await expect(vpage.getByRole("row").filter({ hasText: "Marketing site" }).first()).toBeVisible();
  await vpage.locator("body[data-hydrated]").waitFor();
  await open(vpage, href);
  await expect(vpage.getByRole("region", { name: "Details" })).toBeVisible();
  for (const name of ["Cancel", "Retry", "Redeploy", "Deploy"]) {
    await expect(vpage.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
  await vpage.getByRole("region", { name: "Details" }).getByRole("link").first().click();
  await expect(vpage.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(vpage.getByRole("button", { name: "Deploy", exact: true })).toHaveCount(0);
  await open(vpage, "/sites");
  await expect(vpage.getByRole("link", { name: "New site" })).toHaveCount(0);

  const deploymentId = href.split("/").pop()!;
  const forged = await vpage.request.post("/api/retry_deployment", { form: { id: deploymentId } });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).message).toContain("Viewers");
  await viewerContext.close();
});

test("a user of another team opening a deployment's URL gets not found", async ({ page, browser }) => {
  await signInDemo(page);
  const href = (await page.getByRole("row").nth(1).getByRole("link").first().getAttribute("href"))!;
  const other = await browser.newContext();
  const opage = await other.newPage();
  const id = unique();
  await signUp(opage, { name: "Olga", email: `olga-${id}@example.com`, password: "correct horse battery", team: `Others ${id}` });
  await expect(opage).toHaveURL(/\/$/);
  const response = await opage.goto(href);
  expect(response?.status()).toBe(404);
  await expect(opage.getByRole("heading", { name: "Deployment not found" })).toBeVisible();
  await expect(opage.getByText("Deploy main")).toHaveCount(0);
  await other.close();
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("deploy, read and cancel from plain HTML", async ({ page }) => {
    await page.goto("/signin");
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await page.goto("/sites");
    await page.getByRole("link", { name: "Docs" }).click();
    await expect(async () => {
      await page.reload();
      await expect(page.getByRole("button", { name: "Deploy", exact: true })).toBeEnabled({ timeout: 200 });
    }).toPass({ timeout: 20_000 });
    await page.getByLabel("Branch or commit").fill("slow-plain");
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
    await expect(page.getByRole("heading", { level: 1, name: "Deploy slow-plain" })).toBeVisible();
    await expect(page.getByRole("region", { name: "Steps" })).toContainText("Install");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
    await expect(statusBadge(page)).toHaveText("cancelled");
  });
});
