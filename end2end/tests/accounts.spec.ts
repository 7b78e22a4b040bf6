import { test, expect } from "@playwright/test";
import { DEMO, expectSignedInAs, open, signIn, signUp, unique } from "./helpers";

test("sign up, sign out and sign in again", async ({ page }) => {
  const id = unique();
  const account = { name: "Ada Lovelace", email: `ada-${id}@example.com`, password: "correct horse battery", team: `Engines ${id}` };
  await signUp(page, account);
  await expect(page).toHaveURL(/\/$/);
  await expectSignedInAs(page, account.team);
  await expect(page.getByRole("heading", { name: "Deployments", exact: true })).toBeVisible();
  await expect(page.getByText("No deployments yet")).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await open(page, "/");
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, account.email.toUpperCase(), account.password);
  await expect(page).toHaveURL(/\/$/);
  await expectSignedInAs(page, account.team);
});

test("bad sign-up input gets a clear message on the form and creates nothing", async ({ page }) => {
  const id = unique();
  const good = { name: "Grace Hopper", email: `grace-${id}@example.com`, password: "correct horse battery", team: `Navy ${id}` };
  const cases = [
    { change: { email: "" }, message: "Enter your email address." },
    { change: { email: "grace-at-example.com" }, message: "does not look like an email address" },
    { change: { password: "short" }, message: "at least 8 characters" },
    { change: { password: "x".repeat(10_000) }, message: "at most 128 characters" },
    { change: { email: DEMO.email }, message: "already exists" },
  ];
  for (const { change, message } of cases) {
    await signUp(page, { ...good, ...change });
    await expect(page.getByRole("alert")).toContainText(message);
    await expect(page).toHaveURL(/\/signup$/);
  }
  // None of them made an account.
  await signIn(page, good.email, good.password);
  await expect(page.getByRole("alert")).toContainText("do not match an account");
});

test("a wrong password is refused with a message", async ({ page }) => {
  await signIn(page, DEMO.email, "not the password");
  await expect(page.getByRole("alert")).toHaveText("That email and password do not match an account.");
  await expect(page).toHaveURL(/\/signin$/);
});

test("the demo account sees its team's sites", async ({ page }) => {
  await signIn(page, DEMO.email, DEMO.password);
  await expectSignedInAs(page, DEMO.team);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sites" }).click();
  await expect(page.getByRole("heading", { name: "Marketing site" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Docs" })).toBeVisible();
});

test("a second team's member never sees the first team", async ({ page }) => {
  const id = unique();
  await signUp(page, { name: "Eve", email: `eve-${id}@example.com`, password: "correct horse battery", team: `Outsiders ${id}` });
  await expectSignedInAs(page, `Outsiders ${id}`);
  for (const path of ["/", "/sites", "/team"]) {
    await open(page, path);
    const text = await page.locator("body").innerText();
    expect(text).not.toContain(DEMO.team);
    expect(text).not.toContain("Marketing site");
    expect(text).not.toContain(DEMO.email);
  }
  await open(page, "/sites");
  await expect(page.getByText("No sites yet")).toBeVisible();
});

test("an owner adds a member by email, who can then switch to that team", async ({ browser }) => {
  const id = unique();
  const newcomer = { name: "Linus", email: `linus-${id}@example.com`, password: "correct horse battery", team: `Kernel ${id}` };
  const theirs = await browser.newPage();
  await signUp(theirs, newcomer);
  await expectSignedInAs(theirs, newcomer.team);

  const owner = await browser.newPage();
  await signIn(owner, DEMO.email, DEMO.password);
  await expectSignedInAs(owner, DEMO.team);
  await open(owner, "/team");
  await owner.getByLabel("Email").fill(newcomer.email);
  await owner.getByLabel("Role", { exact: true }).selectOption("viewer");
  await owner.getByRole("button", { name: "Add member" }).click();
  await expect(owner.getByRole("status")).toHaveText("Member added.");
  await expect(owner.getByRole("cell", { name: newcomer.email })).toBeVisible();

  await open(theirs, "/");
  const reloaded = theirs.waitForEvent("load");
  await theirs.getByLabel("Team").selectOption({ label: DEMO.team });
  await reloaded;
  await theirs.locator("body[data-hydrated]").waitFor();
  const selected = await theirs.getByLabel("Team").evaluate((s) => (s as HTMLSelectElement).selectedOptions[0].text);
  expect(selected).toBe(DEMO.team);
  await open(theirs, "/sites");
  await expect(theirs.getByRole("heading", { name: "Marketing site" })).toBeVisible();
  // A viewer sees the team but gets no form to add members.
  await open(theirs, "/team");
  await expect(theirs.getByRole("button", { name: "Add member" })).toHaveCount(0);
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("signing in and reading the pages works from plain HTML", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/signin$/);
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expectSignedInAs(page, DEMO.team);
    await page.goto("/sites");
    await expect(page.getByRole("heading", { name: "Marketing site" })).toBeVisible();
    await page.goto("/team");
    await expect(page.getByRole("cell", { name: DEMO.email })).toBeVisible();
  });
});
