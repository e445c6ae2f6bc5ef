// Issue 15 in a real browser against the built server: security headers, the app running under
// its CSP, login CSRF from another site, open redirects through ?next=, and the body limit.
import { expect, test, type Page } from "@playwright/test";

const email = `e2e-sec-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const password = "correct-horse-battery";
const ATTACKER_SITE = "http://attacker.test";

// One test's failure must not hide the others': each logs in on its own.
test.beforeAll(async ({ request }) => {
  const res = await request.post("/api/auth/register", { data: { email, password } });
  expect([201, 409]).toContain(res.status());
});

/** Record every CSP violation the page reports, from before its first script runs. */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const messages: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) messages.push(msg.text());
  });
  return async () => [
    ...messages,
    ...(await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])),
  ];
}

async function logIn(page: Page, path = "/login") {
  await page.goto(path);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

test("a client without an Origin header (curl, the smoke role) can still log in", async ({ request }) => {
  const res = await request.post("/api/auth/login", { data: { email, password } });
  expect(res.status()).toBe(200);
});

test("pages, API answers, redirects and static files carry the security headers", async ({ page, request }) => {
  const document = await page.goto("/login");
  const headers = document!.headers();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  const script = page.locator("script[src*='/_next/static/']").first();
  const scriptUrl = await script.getAttribute("src");
  for (const res of [
    document!,
    await request.get("/api/health"),
    await request.get("/", { maxRedirects: 0 }),
    await request.get(scriptUrl!),
    await request.get("/robots.txt"),
  ]) {
    const h = res.headers();
    expect(h["content-security-policy"], res.url()).toContain("frame-ancestors 'none'");
    expect(h["x-content-type-options"], res.url()).toBe("nosniff");
    expect(h["referrer-policy"], res.url()).toBe("strict-origin-when-cross-origin");
    expect(h["x-powered-by"], res.url()).toBeUndefined();
  }
});

test("the app works under its CSP: no violations while logging in, adding a task and chatting", async ({ page }) => {
  const violations = await watchCsp(page);
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  const form = page.getByRole("form", { name: "New task" });
  await form.getByLabel("Title").fill("Under CSP");
  await form.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByTestId("task-item").filter({ hasText: "Under CSP" })).toBeVisible();
  await page.getByRole("link", { name: "Assistant" }).click();
  await page.getByLabel("Message").fill('add a task called "CSP milk"');
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("message-assistant").last()).toContainText("CSP milk");
  expect(await violations()).toEqual([]);
});

test("a text/plain form on another site cannot log the visitor into the attacker's account", async ({ page, context, baseURL }) => {
  // The classic login-CSRF form: text/plain turns name=value into a JSON-looking body.
  const html = `<form method="POST" action="${baseURL}/api/auth/login" enctype="text/plain">
      <input name='{"email":"${email}","password":"${password}","x":"' value='"}'>
    </form><script>document.forms[0].submit()</script>`;
  await page.route(`${ATTACKER_SITE}/**`, (route) => route.fulfill({ contentType: "text/html", body: html }));
  const answer = page.waitForResponse(`${baseURL}/api/auth/login`);
  await page.goto(`${ATTACKER_SITE}/win-a-prize`);
  const res = await answer;
  expect(res.status()).toBe(403);
  expect((await res.json()).detail).toMatch(/cross-site/i);
  expect((await context.cookies()).find((c) => c.name === "todo_session")).toBeUndefined();
});

for (const next of ["/%09/evil.example", "//evil.example", "/%5C/evil.example", "/%0A/evil.example", "https://evil.example/"]) {
  test(`login does not follow next=${next} off the site`, async ({ page, baseURL }) => {
    await page.route("**://evil.example/**", (route) => route.fulfill({ contentType: "text/html", body: "evil" }));
    await logIn(page, `/login?next=${next.replace(":", "%3A")}`);
    await expect(page.getByRole("heading", { name: "Tasks" })).toBeVisible();
    expect(page.url()).toBe(`${baseURL}/`);
  });
}

test("the real server answers an oversized body with 413 and a non-JSON login with 415", async ({ request }) => {
  const big = await request.post("/api/auth/register", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ email: "big@example.com", password: "x".repeat(2 * 1024 * 1024) }),
  });
  expect(big.status()).toBe(413);
  expect((await big.json()).detail).toMatch(/MAX_BODY_BYTES/);
  const plain = await request.post("/api/auth/login", {
    headers: { "content-type": "text/plain" },
    data: JSON.stringify({ email, password }),
  });
  expect(plain.status()).toBe(415);
});
