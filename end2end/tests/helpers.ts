import { Page, expect } from "@playwright/test";

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
