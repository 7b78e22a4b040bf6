import { test, expect, Page, BrowserContext } from "@playwright/test";
import { automate, createSite, deploy, open, sendHook, signUp, statusBadge, unique, waitSiteIdle } from "./helpers";

// Deploy controls on the browser tests' server, whose deploys publish a
// page naming their branch: rollback, promotion, and locks.
const port = Number(process.env.FLIGHTDECK_E2E_PORT ?? 3100);
const password = "correct horse battery";

async function newTeam(page: Page, who: string) {
  const id = unique();
  await signUp(page, { name: who, email: `${who.toLowerCase()}-${id}@example.com`, password, team: `Controls ${id}` });
  await expect(page).toHaveURL(/\/$/);
  return id;
}

/** A tab on what the site's own URL serves. */
async function siteTab(context: BrowserContext, siteId: string): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(`http://${siteId.toLowerCase()}.preview.localhost:${port}/`);
  return tab;
}

async function expectServes(tab: Page, heading: string) {
  await expect(async () => {
    await tab.reload();
    await expect(tab.getByRole("heading", { level: 1 })).toHaveText(heading, { timeout: 200 });
  }).toPass({ timeout: 5_000, intervals: [50, 100, 200] });
}

async function deployAndWait(page: Page, siteId: string, ref: string): Promise<string> {
  await open(page, `/sites/${siteId}`);
  await waitSiteIdle(page);
  await deploy(page, ref);
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 30_000 });
  return page.url();
}

test("rolling back from a deployment's page puts its files back on the site's URL", async ({ page, context }) => {
  const id = await newTeam(page, "Rita");
  await createSite(page, `Rollback ${id}`);
  const siteId = page.url().split("/").pop()!;
  const one = await deployAndWait(page, siteId, "one");
  const two = await deployAndWait(page, siteId, "two");
  const served = await siteTab(context, siteId);
  await expectServes(served, "two");

  await page.goto(one);
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Roll back to this deployment" }).click();
  await expect(page).not.toHaveURL(one);
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  const shortOne = one.slice(-8).toLowerCase();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Roll back to ${shortOne}`);
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 10_000 });
  await expectServes(served, "one");
  // One step, no build; the facts say what it published again.
  const steps = page.getByRole("region", { name: "Steps" }).getByRole("listitem");
  await expect(steps).toHaveCount(1);
  await expect(steps.first()).toContainText("Publish release");
  await expect(page.getByRole("region", { name: "Details" })).toContainText("Rolls back to");

  // The history shows it; the deploy it replaced is superseded.
  await open(page, `/sites/${siteId}`);
  await expect(page.getByRole("region", { name: "History" }).getByRole("link", { name: `Roll back to ${shortOne}` })).toBeVisible();
  await page.goto(two);
  await expect(statusBadge(page)).toHaveText("superseded");
});

test("a pull request's preview is promoted to the site as it was reviewed", async ({ page, context }) => {
  const id = await newTeam(page, "Pia");
  await createSite(page, `Promote ${id}`);
  const siteId = page.url().split("/").pop()!;
  await automate(page);
  const reply = await sendHook(page, siteId, "pull_request", {
    action: "opened",
    number: 12,
    pull_request: {
      user: { login: "pia" },
      head: { ref: "feature-x", sha: "a".repeat(40), repo: { full_name: `acme/promote-${id}` } },
      base: { ref: "main", repo: { full_name: `acme/promote-${id}` } },
    },
  });
  await open(page, `/deployments/${reply.deployment_id}`);
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 30_000 });
  const served = await siteTab(context, siteId);
  await expectServes(served, "main");

  await page.getByRole("button", { name: "Promote to production" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Promote PR #12 \(/);
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 10_000 });
  await expectServes(served, "feature-x");

  // Closing the pull request removes the preview; the promoted copy stays live.
  await sendHook(page, siteId, "pull_request", {
    action: "closed",
    number: 12,
    pull_request: {
      head: { ref: "feature-x", sha: "a".repeat(40), repo: { full_name: `acme/promote-${id}` } },
      base: { ref: "main", repo: { full_name: `acme/promote-${id}` } },
    },
  });
  await open(page, `/deployments/${reply.deployment_id}`);
  await expect(page.getByText("This preview was removed when pull request #12 closed.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Promote to production" })).toHaveCount(0);
  await expectServes(served, "feature-x");
});

test("a locked site refuses Deploy with the reason; a push waits and runs after unlock", async ({ page }) => {
  const id = await newTeam(page, "Lou");
  await createSite(page, `Locked ${id}`);
  const siteId = page.url().split("/").pop()!;
  await automate(page);

  await page.getByText("Lock deploys").click();
  await page.getByLabel("Reason").fill("release freeze");
  await page.getByRole("button", { name: "Lock", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Locked by Lou: release freeze" })).toBeVisible();
  const deployButton = page.getByRole("button", { name: "Deploy", exact: true });
  await expect(deployButton).toBeDisabled();
  await expect(deployButton).toHaveAttribute("title", "Locked by Lou: release freeze");
  await open(page, "/sites");
  await expect(page.getByRole("article").filter({ hasText: `Locked ${id}` })).toContainText("Locked");
  await open(page, `/sites/${siteId}`);

  // A push while locked: queued, waiting for the unlock.
  const reply = await sendHook(page, siteId, "push", {
    ref: "refs/heads/main",
    after: "b".repeat(40),
    pusher: { name: "lou" },
    repository: { full_name: `acme/locked-${id}` },
  });
  const pushPage = await page.context().newPage();
  await open(pushPage, `/deployments/${reply.deployment_id}`);
  await expect(statusBadge(pushPage)).toHaveText("waiting for unlock");

  await page.getByRole("button", { name: "Unlock" }).click();
  await expect(deployButton).toBeEnabled({ timeout: 30_000 });
  // The page updates live: no reload.
  await expect(statusBadge(pushPage)).toHaveText("ready", { timeout: 30_000 });
});
