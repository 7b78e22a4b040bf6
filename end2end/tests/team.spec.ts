import { test, expect, Page } from "@playwright/test";
import { automate, createSite, expectSignedInAs, open, reloadUntil, sendHook, signIn, signUp, statusBadge, unique } from "./helpers";

const password = "correct horse battery";

test("an owner invites by link; the link joins its team once, with its role", async ({ browser }) => {
  const id = unique();
  const team = `Invited ${id}`;
  const owner = await browser.newPage();
  await signUp(owner, { name: "Olga Owner", email: `olga-${id}@example.com`, password, team });
  await expectSignedInAs(owner, team);

  await open(owner, "/team");
  await owner.getByLabel("Invite as").selectOption("viewer");
  await owner.getByRole("button", { name: "Create invite link" }).click();
  const link = owner.getByLabel("Invite link");
  await expect(link).toHaveValue(/\/signup\?invite=/);
  const url = await link.inputValue();

  // A stranger with no session opens the link.
  const guest = await browser.newContext();
  const invited = await guest.newPage();
  await open(invited, url);
  await expect(invited.getByRole("status")).toHaveText(`You are joining ${team} as a viewer.`);
  await expect(invited.getByLabel("Team name")).toHaveCount(0);
  await invited.getByLabel("Your name").fill("Vera Viewer");
  await invited.getByLabel("Email").fill(`vera-${id}@example.com`);
  await invited.getByLabel("Password", { exact: true }).fill(password);
  await invited.getByRole("button", { name: "Join the team" }).click();
  await expect(invited).toHaveURL(/\/$/);
  await expectSignedInAs(invited, team);
  await guest.close();

  // The link is spent.
  const late = await browser.newContext();
  const second = await late.newPage();
  await open(second, url);
  await expect(second.getByRole("alert")).toContainText("This invite link was used, revoked or has expired");
  await expect(second.getByRole("button", { name: "Join the team" })).toHaveCount(0);
  await late.close();

  // The owner sees the member and the used invite, and makes her a member.
  await open(owner, "/team");
  const members = owner.locator("table.members");
  const row = members.getByRole("row", { name: /Vera Viewer/ });
  await expect(row).toContainText("Viewer");
  await expect(owner.locator("table", { hasText: "Expires" }).getByRole("row", { name: /used/ })).toContainText("by Vera Viewer");
  await row.getByRole("combobox").selectOption("member");
  await reloadUntil(owner, () => expect(members.getByRole("row", { name: /Vera Viewer/ }).getByRole("combobox")).toHaveValue("member", { timeout: 200 }));

  // A second invite, revoked, no longer works.
  await owner.getByRole("button", { name: "Create invite link" }).click();
  await expect(owner.getByLabel("Invite link")).toHaveValue(/invite=/);
  const revoked = await owner.getByLabel("Invite link").inputValue();
  await owner.getByRole("button", { name: "Revoke" }).first().click();
  await expect(owner.getByRole("row", { name: /revoked/ })).toBeVisible();
  const other = await browser.newContext();
  const third = await other.newPage();
  await open(third, revoked);
  await expect(third.getByRole("alert")).toContainText("This invite link was used, revoked or has expired");
  await other.close();
});

test("a changed password signs in; the old one no longer does", async ({ page }) => {
  const id = unique();
  const email = `pat-${id}@example.com`;
  await signUp(page, { name: "Pat", email, password, team: `Passwords ${id}` });
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole("banner").getByRole("link", { name: "Pat" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.locator("body[data-hydrated]").waitFor();

  await page.getByLabel("Current password").fill("not it at all");
  await page.getByLabel("New password").fill("a brand new secret");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toHaveText("Your current password is not that.");

  await page.getByLabel("Current password").fill(password);
  await page.getByLabel("New password").fill("a brand new secret");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "changed" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await signIn(page, email, password);
  await expect(page.getByRole("alert")).toContainText("do not match an account");
  await signIn(page, email, "a brand new secret");
  await expect(page).toHaveURL(/\/$/);
});

/** Sends GitHub's pull_request event for a fork's branch, signed with the site's secret. */
async function forkPullRequest(page: Page, siteId: string): Promise<string> {
  const reply = await sendHook(page, siteId, "pull_request", {
    action: "opened",
    number: 7,
    pull_request: {
      html_url: "https://github.com/acme/shop/pull/7",
      user: { login: "mallory" },
      head: { ref: "fork-change", sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", repo: { full_name: "mallory/shop" } },
      base: { ref: "main", repo: { full_name: "acme/shop" } },
    },
    repository: { full_name: "acme/shop" },
  });
  return reply.deployment_id!;
}

test("a fork's pull request waits on its page until a member approves it", async ({ page }) => {
  const id = unique();
  await signUp(page, { name: "Mia", email: `mia-${id}@example.com`, password, team: `Forks ${id}` });
  await expect(page).toHaveURL(/\/$/);
  const name = `Shop ${id}`;
  await createSite(page, name);
  const siteId = page.url().split("/").pop()!;

  // Previews come only with auto-deploy and previews on.
  await automate(page);

  const deploymentId = await forkPullRequest(page, siteId);
  await open(page, `/deployments/${deploymentId}`);
  await expect(statusBadge(page)).toHaveText("waiting for approval");
  await expect(page.getByText("Waiting for approval:")).toBeVisible();
  await expect(page.getByRole("button", { name: "Reject" })).toBeVisible();
  await page.getByRole("button", { name: "Approve and run" }).click();
  await expect(statusBadge(page)).toHaveText("ready", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Approve and run" })).toHaveCount(0);
});
