import { test, expect, Page, APIRequestContext } from "@playwright/test";
import { createSite, open, signUp, unique } from "./helpers";

const password = "correct horse battery";

/** A tile of the wallboard, by its site's name. */
function tile(page: Page, name: string) {
  return page.getByRole("article", { name: new RegExp(`^${name}: `) });
}

async function trigger(request: APIRequestContext, siteId: string, ref: string) {
  const res = await request.post("/api/trigger_deployment", { form: { site_id: siteId, kind: "deploy", git_ref: ref } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

async function siteId(page: Page): Promise<string> {
  const match = page.url().match(/\/sites\/([0-9A-Z]{26})/);
  expect(match).not.toBeNull();
  return match![1];
}

test("a link opens the board without a cookie; it follows deploys live and stops when revoked", async ({ browser }) => {
  test.setTimeout(120_000);
  const id = unique();
  const team = `Board ${id}`;
  const owner = await browser.newPage();
  await signUp(owner, { name: "Olga Owner", email: `olga-${id}@example.com`, password, team });
  await expect(owner).toHaveURL(/\/$/);
  await createSite(owner, `Web ${id}`);
  const web = await siteId(owner);
  await createSite(owner, `Docs ${id}`);

  // The team page makes a named link, shown once.
  await open(owner, "/team");
  await owner.getByLabel("Screen name").fill("Office TV");
  await owner.getByRole("button", { name: "Create wallboard link" }).click();
  const field = owner.getByRole("textbox", { name: "Wallboard link" });
  await expect(field).toHaveValue(/\/wallboard\/[0-9a-f]{64}$/);
  const url = await field.inputValue();
  await expect(owner.getByRole("row").filter({ hasText: "Office TV" })).toContainText("never");

  // A screen signed in to nothing opens it: every site, no cookie.
  const screen = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const tv = await screen.newPage();
  await open(tv, url);
  await expect(tv.getByRole("heading", { level: 1, name: team })).toBeVisible();
  await expect(tile(tv, `Web ${id}`)).toHaveAttribute("data-state", "ready");
  await expect(tile(tv, `Docs ${id}`)).toHaveAttribute("data-state", "ready");
  await expect(tv.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  expect(await screen.cookies()).toEqual([]);

  // A deploy in the signed-in browser: building, with its step, within a second.
  const started = Date.now();
  await trigger(owner.request, web, `brief-${id}`);
  const webTile = tile(tv, `Web ${id}`);
  await expect(webTile).toHaveAttribute("data-state", "building", { timeout: 1_000 });
  await expect(webTile).toContainText(/(Install|Build) · step \d of 3/, { timeout: 1_000 });
  console.log(`tile building ${Date.now() - started} ms after the trigger`);
  await expect(webTile).toContainText("Build · step 2 of 3");
  await expect(webTile).toHaveAttribute("data-state", "ready", { timeout: 15_000 });
  await expect(webTile).toContainText(`brief-${id}`);

  // A failing deploy: red, naming the step, and it stays red.
  await trigger(owner.request, web, `broken-${id}`);
  await expect(webTile).toHaveAttribute("data-state", "failed", { timeout: 15_000 });
  await expect(webTile).toContainText("Failed at “Build”");
  await expect(tv.locator(".wb-count.state-failed")).toContainText("1");
  await expect(tv.getByRole("contentinfo", { name: "Latest operations" })).toContainText(`Deploy broken-${id}`);

  // Revoked on the team page: the open screen says so within 10 s.
  await open(owner, "/team");
  const row = owner.getByRole("row").filter({ hasText: "Office TV" });
  await expect(row).not.toContainText("never");
  await row.getByRole("button", { name: "Revoke Office TV" }).click();
  await expect(row).toContainText("revoked");
  await expect(tv.getByRole("alert")).toContainText("This wallboard link was revoked", { timeout: 10_000 });
  // ...and the link opens nothing any more.
  const again = await (await browser.newContext()).newPage();
  const res = await again.goto(url);
  expect(res?.status()).toBe(404);
  await expect(again.getByRole("alert")).toContainText("This wallboard link was revoked");
  await screen.close();
  await again.context().close();
  await owner.context().close();
});

test("forty sites fit one 1920×1080 screen without scrolling, names at least 20 px", async ({ browser }) => {
  test.setTimeout(240_000);
  const id = unique();
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  await signUp(page, { name: "Forty Sites", email: `forty-${id}@example.com`, password, team: `Forty ${id}` });
  await expect(page).toHaveURL(/\/$/);
  const ids: string[] = [];
  for (let i = 1; i <= 40; i++) {
    const res = await page.request.post("/api/create_site", {
      form: { name: `Site ${String(i).padStart(2, "0")} ${id}`, repository: `https://github.com/acme/s${i}`, branch: "main" },
    });
    expect(res.ok(), await res.text()).toBeTruthy();
    ids.push((await res.json()).id);
  }
  // Three fail, so the board has large tiles and folds healthy ones if it must.
  await open(page, "/wallboard");
  await expect(page.locator(".tile[data-state=ready]")).toHaveCount(40, { timeout: 180_000 });
  for (const failing of [0, 3]) {
    if (failing > 0) {
      for (const site of ids.slice(0, failing)) await trigger(page.request, site, `broken-${id}`);
    }
    await expect(page.locator(".tile[data-state=failed]")).toHaveCount(failing, { timeout: 30_000 });
    const fit = await page.evaluate(() => {
      const names = [...document.querySelectorAll<HTMLElement>(".tile .tile-name")];
      const tiles = [...document.querySelectorAll<HTMLElement>(".tile")];
      const folded = [...document.querySelectorAll<HTMLElement>(".tile-fold")].map((t) => Number(t.dataset.folded));
      return {
        scrolls: document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth,
        outside: tiles.filter((t) => {
          const r = t.getBoundingClientRect();
          return r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth;
        }).length,
        smallest: Math.min(...names.map((n) => parseFloat(getComputedStyle(n).fontSize))),
        shown: document.querySelectorAll(".tile[data-site]").length,
        folded: folded.reduce((a, b) => a + b, 0),
      };
    });
    console.log(`40 sites, ${failing} failing: ${JSON.stringify(fit)}`);
    expect(fit.scrolls).toBe(false);
    expect(fit.outside).toBe(0);
    expect(fit.smallest).toBeGreaterThanOrEqual(20);
    expect(fit.shown + fit.folded).toBe(40);
  }
  await context.close();
});
