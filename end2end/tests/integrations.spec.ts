import { test, expect, request } from "@playwright/test";
import * as http from "http";
import * as crypto from "crypto";
import { AddressInfo } from "net";
import { createSite, deploy, expectSignedInAs, open, reloadUntil, signUp, unique } from "./helpers";

const password = "correct horse battery";

type Received = { event: string; delivery: string; timestamp: string; signature: string; body: string };

/** A notification receiver on loopback that answers 200 and keeps what it got. */
async function receiver() {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      got.push({
        event: String(req.headers["x-flightdeck-event"]),
        delivery: String(req.headers["x-flightdeck-delivery"]),
        timestamp: String(req.headers["x-flightdeck-timestamp"]),
        signature: String(req.headers["x-flightdeck-signature-256"]),
        body,
      });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("thanks");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => server.close() };
}

function signed(secret: string, r: Received): boolean {
  const mac = crypto.createHmac("sha256", secret).update(`${r.timestamp}.${r.body}`).digest("hex");
  return r.signature === `sha256=${mac}`;
}

test("a member makes a token that deploys without a cookie, then revokes it", async ({ page, baseURL }) => {
  const id = unique();
  const team = `Tokens ${id}`;
  await signUp(page, { name: "Tess Token", email: `tess-${id}@example.com`, password, team });
  await expectSignedInAs(page, team);
  const site = `Tokened ${id}`;
  await createSite(page, site);
  const siteId = page.url().split("/").pop()!;

  await open(page, "/team");
  await page.getByLabel("Token name").fill("release-bot");
  await page.getByLabel("Acts as").selectOption("member");
  await page.getByRole("button", { name: "Create token" }).click();
  const field = page.getByLabel("API token", { exact: true });
  await expect(field).toHaveValue(/^fdt_[0-9a-f]{64}$/);
  const token = await field.inputValue();
  await expect(page.getByRole("cell", { name: "release-bot", exact: true })).toBeVisible();

  // A script with only the token deploys; the history says who.
  const ci = await request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
  const started = await ci.post("/api/trigger_deployment", { form: { site_id: siteId, kind: "deploy", git_ref: "main" } });
  expect(started.status()).toBe(200);
  await open(page, "/");
  await expect(page.getByText("CI token 'release-bot'").first()).toBeVisible();

  await open(page, "/team");
  await page.getByRole("button", { name: "Revoke release-bot" }).click();
  await expect(page.getByRole("row", { name: /release-bot/ }).getByText("revoked")).toBeVisible();
  const after = await ci.post("/api/list_deployments");
  expect(after.status()).toBe(401);
  expect((await after.json()).message).toContain("revoked");
  await ci.dispose();
});

test("a hook gets a signed test, the deploy's events in order, and a redelivery", async ({ page }) => {
  const hook = await receiver();
  try {
    const id = unique();
    const team = `Hooks ${id}`;
    await signUp(page, { name: "Hana Hook", email: `hana-${id}@example.com`, password, team });
    await expectSignedInAs(page, team);
    const site = `Hooked ${id}`;
    await createSite(page, site);
    const sitePath = new URL(page.url()).pathname;

    await open(page, "/team");
    await page.getByLabel("Payload URL").fill(hook.url);
    await page.getByLabel("Started").check();
    await page.getByRole("button", { name: "Add hook" }).click();
    const secretField = page.getByLabel("Signing secret");
    await expect(secretField).toHaveValue(/^[0-9a-f]{64}$/);
    const secret = await secretField.inputValue();
    const item = page.getByRole("listitem", { name: `Hook to ${hook.url}` });
    await expect(item).toContainText("Started · Succeeded · Failed");

    await item.getByRole("button", { name: "Send test" }).click();
    await expect(item.getByRole("status")).toContainText("Test delivered: the receiver answered 200");
    expect(hook.got.map((r) => r.event)).toEqual(["notification.test"]);
    expect(signed(secret, hook.got[0])).toBe(true);
    expect(signed("not the secret", hook.got[0])).toBe(false);

    // A deploy from the site's page: started, then succeeded, each signed.
    await open(page, sitePath);
    await deploy(page, "main");
    await expect.poll(() => hook.got.map((r) => r.event), { timeout: 20_000 })
      .toEqual(["notification.test", "deployment.started", "deployment.succeeded"]);
    expect(hook.got.every((r) => signed(secret, r))).toBe(true);
    const body = JSON.parse(hook.got[2].body);
    expect(body.site.name).toBe(site);
    expect(body.deployment.status).toBe("completed");
    expect(body.links.dashboard).toMatch(/\/deployments\/[0-9A-Z]{26}$/);

    // The log lists them; Redeliver sends one again as a new delivery.
    await open(page, "/team");
    const log = page.getByRole("listitem", { name: `Hook to ${hook.url}` });
    await reloadUntil(page, () => expect(log.getByRole("row", { name: /Succeeded/ }).getByText("delivered")).toBeVisible({ timeout: 300 }));
    await log.getByRole("button", { name: /^Redeliver Deploy main on/ }).first().click();
    await expect.poll(() => hook.got.length, { timeout: 10_000 }).toBe(4);
    expect(hook.got[3].event).toBe("deployment.succeeded");
    expect(hook.got[3].delivery).not.toBe(hook.got[2].delivery);
  } finally {
    hook.close();
  }
});
