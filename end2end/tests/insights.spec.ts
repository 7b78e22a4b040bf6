import { test, expect, Page } from "@playwright/test";
import { createSite, deploy, expectSignedInAs, open, signUp, statusBadge, unique, waitSiteIdle } from "./helpers";

const password = "correct horse battery";

function metric(page: Page, name: string) {
  return page.getByRole("article").filter({ has: page.getByRole("heading", { name, exact: true }) });
}

async function deployAndWait(page: Page, site: string, ref: string, status: string) {
  await open(page, site);
  await waitSiteIdle(page);
  await deploy(page, ref);
  await expect(statusBadge(page)).toHaveText(status, { timeout: 30_000 });
}

test("insights show the team's deploys as the four metrics, follow new deploys live, and switch window and site", async ({ page, browser }) => {
  const id = unique();
  await signUp(page, { name: "Ines Insight", email: `ines-${id}@example.com`, password, team: `Insights ${id}` });
  await expectSignedInAs(page, `Insights ${id}`);
  // The site's first deploy, a failure, and the deploy that restores it.
  await createSite(page, `Shop ${id}`);
  const site = new URL(page.url()).pathname;
  await deployAndWait(page, site, `broken-${id}`, "failed");
  await deployAndWait(page, site, `fix-${id}`, "ready");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Insights" }).click();
  await expect(page).toHaveURL(/\/insights$/);
  await expect(page.getByRole("heading", { level: 1, name: "Insights" })).toBeVisible();
  const frequency = metric(page, "Deployment frequency");
  await expect(frequency).toContainText("2 successful deploys in 30 days");
  await expect(frequency.getByRole("img", { name: "Successful production deploys per day" })).toBeVisible();
  // The failure, and the first deploy replaced within the hour: 2 of 3.
  await expect(metric(page, "Change failure rate")).toContainText("67%");
  await expect(metric(page, "Change failure rate")).toContainText("Of 3 deploys");
  await expect(metric(page, "Time to restore")).toContainText("Median of 1 restore");
  // How it's computed, one click away.
  await metric(page, "Time to restore").getByText("How it’s computed").click();
  await expect(metric(page, "Time to restore")).toContainText("failures in a row are one");
  // Every step of the deploy pipeline, and a table for screen readers.
  await expect(page.getByRole("heading", { name: "Deploy pipeline" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Successful production deploys per day" })).toHaveCount(1);

  // A deploy that ends while the page is open shows up without a reload.
  const other = await page.context().newPage();
  await deployAndWait(other, site, `more-${id}`, "ready");
  await other.close();
  await expect(frequency).toContainText("3 successful deploys in 30 days");

  // The window and the site are in the URL.
  await page.getByRole("navigation", { name: "Window" }).getByRole("link", { name: "7 days" }).click();
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByRole("link", { name: "7 days" })).toHaveAttribute("aria-current", "page");
  await expect(frequency).toContainText("3 successful deploys in 7 days");
  await page.getByRole("combobox", { name: /^Site/ }).selectOption({ label: `Shop ${id}` });
  await expect(page).toHaveURL(/site=[0-9A-Z]{26}&days=7/);
  await expect(frequency).toContainText("3 successful deploys in 7 days");

  // Without JavaScript the page reads the same, charts included.
  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const noJs = await plain.newPage();
  await noJs.goto("/insights?days=90");
  await expect(noJs.getByRole("img", { name: "Change failure rate by week" })).toBeVisible();
  await expect(metric(noJs, "Deployment frequency")).toContainText("3 successful deploys in 90 days");
  await plain.close();
});
