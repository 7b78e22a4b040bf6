import { test, expect, Page } from "@playwright/test";
import { createSite, deploy, expectSignedInAs, open, signUp, statusBadge, unique } from "./helpers";

const password = "correct horse battery";

function step(page: Page, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByText(name, { exact: true }) });
}

/** Every node of the document, text included. */
function nodes(page: Page) {
  return page.evaluate(() => {
    const walker = document.createTreeWalker(document.documentElement);
    let n = 1;
    while (walker.nextNode()) n++;
    return n;
  });
}

// The `logs-*` branch prints 100,000 numbered lines in a `::group::`, with
// "needle in the middle" on line 50003 and "needle at the end" on 100005.
async function bigLog(page: Page) {
  const id = unique();
  await signUp(page, { name: "Lou Logs", email: `lou-${id}@example.com`, password, team: `Logs ${id}` });
  await expectSignedInAs(page, `Logs ${id}`);
  await createSite(page, `Logs ${id}`);
  await deploy(page, `logs-${id}`);
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 30_000 });
  return page.url().split("/").pop()!;
}

test("a 100,000-line log: search steps through matches, a line link opens it, a group folds, the download is the stored output", async ({ page, browser }) => {
  const deploymentId = await bigLog(page);
  await open(page, `/deployments/${deploymentId}`);

  // Search finds both matches across the whole log, though the page came
  // with its tail only, and Enter / Shift+Enter step through them.
  const search = page.getByLabel("Search logs");
  await search.fill("needle");
  const count = page.locator(".log-count");
  await expect(count).toHaveText("1 of 2");
  const build = step(page, "Build");
  const current = build.locator("mark.cur");
  await expect(current).toBeVisible();
  await expect(build.locator(".ll", { has: page.locator("mark.cur") })).toHaveAttribute("data-l", "50003");
  await search.press("Enter");
  await expect(count).toHaveText("2 of 2");
  await expect(build.locator(".ll", { has: page.locator("mark.cur") })).toHaveAttribute("data-l", "100005");
  await search.press("Shift+Enter");
  await expect(count).toHaveText("1 of 2");
  await expect(current).toHaveText("needle");
  await page.getByRole("button", { name: "Next match" }).click();
  await expect(count).toHaveText("2 of 2");
  // A new phrase with as many matches marks the new phrase.
  await search.fill("needl");
  await expect(count).toHaveText("1 of 2");
  await expect(current).toHaveText("needl");
  await search.fill("no such text anywhere");
  await expect(count).toHaveText("No matches");
  // Only the rows in view are in the document.
  expect(await nodes(page)).toBeLessThan(5000);

  // A line link in a new page opens the step, scrolls to the line and marks it.
  const other = await page.context().newPage();
  await other.goto(`/deployments/${deploymentId}#step-2-L50003-L50005`);
  await other.locator("body[data-hydrated]").waitFor();
  const linked = other.locator("#step-2-L50003");
  await expect(linked).toBeVisible();
  await expect(linked).toHaveClass(/\bhl\b/);
  await expect(linked).toContainText("needle in the middle");
  await expect(other.locator("#step-2-L50005")).toHaveClass(/\bhl\b/);
  await expect(other.locator("#step-2-L50006")).not.toHaveClass(/\bhl\b/);
  // Clicking a line number links to it.
  await other.locator("#step-2-L50004 a.ln").click();
  await expect(other).toHaveURL(/#step-2-L50004$/);
  await expect(other.locator("#step-2-L50004")).toHaveClass(/\bhl\b/);
  await other.close();

  // The finished group is folded to its header; it opens and folds again.
  await open(page, `/deployments/${deploymentId}`);
  await build.getByText("Build", { exact: true }).click();
  const group = build.getByRole("button", { name: /^Compile/ });
  await expect(group).toHaveAttribute("aria-expanded", "false");
  await expect(build.locator("#step-2-L100005")).toBeVisible();
  await expect(build.locator("#step-2-L3")).toHaveCount(0);
  await group.click();
  await expect(group).toHaveAttribute("aria-expanded", "true");
  await build.getByLabel("Output of step 2").evaluate((el) => (el.scrollTop = 0));
  await expect(build.locator("#step-2-L3")).toHaveText("1");
  await group.click();
  await expect(group).toHaveAttribute("aria-expanded", "false");

  // The download is the step's stored output, byte for byte.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    build.getByRole("link", { name: "Download", exact: true }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/-step-2-build\.txt$/);
  const saved = await (await download.createReadStream()).toArray();
  const stored = await (await page.request.post("/api/get_deployment", { form: { id: deploymentId } })).json();
  expect(Buffer.concat(saved).equals(Buffer.from(stored.steps[1].output, "utf8"))).toBeTruthy();
  expect(stored.steps[1].output.split("\n").length).toBeGreaterThan(100_000);
});

test("a live log follows new output, pauses when the reader scrolls up and resumes with Jump to live", async ({ page }) => {
  const id = unique();
  await signUp(page, { name: "Fay Follow", email: `fay-${id}@example.com`, password, team: `Follow ${id}` });
  await expectSignedInAs(page, `Follow ${id}`);
  await createSite(page, `Follow ${id}`);
  await deploy(page, `streams-${id}`);
  const build = step(page, "Build");
  const view = build.getByLabel("Output of step 2");
  await expect(build.getByText("stream line 5", { exact: true })).toBeVisible({ timeout: 20_000 });
  await view.scrollIntoViewIfNeeded();
  await expect(build.getByRole("button", { name: "Following" })).toBeVisible();
  // Following: the newest line is in view as it comes.
  await expect(build.getByText("stream line 20", { exact: true })).toBeAttached({ timeout: 10_000 });
  await expect(view.locator(".ll").last()).toBeInViewport();

  // Scrolling up pauses: new lines arrive but the view stays put.
  await view.evaluate((el) => el.scrollTo({ top: 0 }));
  const jump = page.getByRole("button", { name: "Jump to live ↓" });
  await expect(jump).toBeVisible();
  await expect(build.getByRole("button", { name: "Follow", exact: true })).toBeVisible();
  const top = await view.evaluate((el) => el.scrollTop);
  await page.waitForTimeout(1500);
  expect(await view.evaluate((el) => el.scrollTop)).toBe(top);
  await expect(build.locator("#step-2-L3")).toBeInViewport();

  // Jump to live resumes at the newest line and follows again.
  await jump.click();
  await expect(jump).toHaveCount(0);
  await expect(build.getByRole("button", { name: "Following" })).toBeVisible();
  const newest = async () => Number(await view.locator(".ll").last().getAttribute("data-l"));
  const before = await newest();
  await expect.poll(newest).toBeGreaterThan(before + 5);
  await expect(view.locator(".ll").last()).toBeInViewport();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(statusBadge(page)).toHaveText("cancelled");
});
