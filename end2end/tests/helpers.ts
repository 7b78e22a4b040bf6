import { Page, expect } from "@playwright/test";
import * as crypto from "crypto";

export const DEMO = { email: "demo@flightdeck.dev", password: "flightdeck-demo", team: "Demo Team" };

/** A suffix that keeps accounts of one run apart. */
export function unique(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Opens a page and waits until it is hydrated, so forms are handled by the app. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await page.locator("body[data-hydrated]").waitFor();
}

export async function signUp(page: Page, a: { name: string; email: string; password: string; team: string }) {
  await open(page, "/signup");
  await page.getByLabel("Your name").fill(a.name);
  await page.getByLabel("Email").fill(a.email);
  await page.getByLabel("Password", { exact: true }).fill(a.password);
  await page.getByLabel("Team name").fill(a.team);
  await page.getByRole("button", { name: "Create account" }).click();
}

export async function signIn(page: Page, email: string, password: string) {
  await open(page, "/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function expectSignedInAs(page: Page, team: string) {
  await expect(page.getByRole("banner")).toContainText(team);
}

export async function signInDemo(page: Page) {
  await signIn(page, DEMO.email, DEMO.password);
  await expect(page).toHaveURL(/\/$/);
}

/** Reloads until `check` passes: pages update live only from the next issue on. */
export async function reloadUntil(page: Page, check: () => Promise<void>, timeout = 30_000) {
  await expect(async () => {
    await page.reload();
    await page.locator("body[data-hydrated]").waitFor();
    await check();
  }).toPass({ timeout, intervals: [250, 500, 1000] });
}

/** On a site's page: waits until nothing runs on the site, so Deploy is enabled. */
export async function waitSiteIdle(page: Page) {
  await reloadUntil(page, () => expect(page.getByRole("button", { name: "Deploy", exact: true })).toBeEnabled({ timeout: 200 }));
}

/** Creates a site through the form and waits for its first deploy to finish. */
export async function createSite(page: Page, name: string) {
  await open(page, "/sites/new");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Repository").fill(`https://github.com/acme/${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await waitSiteIdle(page);
}

/** On a site's page: deploys a branch or commit and lands on the new deployment. */
export async function deploy(page: Page, ref: string) {
  await page.getByLabel("Branch or commit").fill(ref);
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9A-Z]{26}$/);
  await page.locator("body[data-hydrated]").waitFor();
}

/** On a deployment's page: the status shown in its header badge. */
export function statusBadge(page: Page) {
  return page.locator("header, .page-header").getByTitle(/^status: /).first();
}

/** The "Live" / "Reconnecting…" indicator in the top bar. */
export function liveIndicator(page: Page) {
  return page.getByRole("banner").getByTitle("Changes appear on this page as they happen");
}

/** Sends a GitHub event to a site, signed with its secret as GitHub signs it; returns the reply. */
export async function sendHook(page: Page, siteId: string, event: string, payload: object): Promise<{ message: string; deployment_id?: string }> {
  const hooks = await (await page.request.post("/api/get_site_hooks", { form: { id: siteId } })).json();
  const body = JSON.stringify(payload);
  const signature = "sha256=" + crypto.createHmac("sha256", hooks.secret).update(body).digest("hex");
  const res = await page.request.post(`/hooks/github/${siteId}`, {
    data: body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": `e2e-${unique()}`,
      "x-hub-signature-256": signature,
    },
  });
  expect(res.ok()).toBeTruthy();
  return res.json();
}

/** On a site's page: switches on deploys of pushes and pull requests. */
export async function automate(page: Page) {
  const automation = page.getByRole("region", { name: "Automatic deploys" });
  await automation.getByLabel(/Deploy every push/).check();
  await automation.getByLabel("Deploy a preview of every pull request").check();
  await automation.getByRole("button", { name: "Save" }).click();
  await expect(automation.getByRole("status")).toHaveText("Saved.");
}
