import { expect, test, type Page } from "@playwright/test";

const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const password = "correct-horse-battery";

async function login(page: Page) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/$/);
}

test.describe.configure({ mode: "serial" });

test("health and readiness answer through the frontend", async ({ request }) => {
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });
  const ready = await request.get("/api/ready");
  expect(ready.status()).toBe(200);
});

test("pages need a session, and the login they send to is on the address the browser used", async ({ page, baseURL }) => {
  await page.goto("/chat");
  await expect(page).toHaveURL(`${baseURL}/login?next=%2Fchat`);
});

test("register, log in, and create, complete and delete a task", async ({ page, context }) => {
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Account created")).toBeVisible();

  await login(page);
  const cookie = (await context.cookies()).find((c) => c.name === "todo_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");

  const form = page.getByRole("form", { name: "New task" });
  await form.getByLabel("Title").fill("Write e2e test");
  await form.getByLabel("Tags").fill("work, testing");
  await form.getByLabel("Priority").selectOption("high");
  await form.getByRole("button", { name: "Add task" }).click();

  const item = page.getByTestId("task-item").filter({ hasText: "Write e2e test" });
  await expect(item).toBeVisible();
  await expect(item).toContainText("#testing");

  await item.getByRole("checkbox").check();
  await expect(page.getByTestId("task-item").filter({ hasText: "Write e2e test" })).toHaveClass(/done/);

  await page.getByLabel("Status").selectOption("completed");
  await expect(page.getByTestId("task-item")).toHaveCount(1);
  await page.getByLabel("Status").selectOption("all");

  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: 'Delete "Write e2e test"' }).click();
  await expect(page.getByText("Write e2e test")).toHaveCount(0);
  await expect(page.getByText("No tasks match.")).toBeVisible();
});

test("the assistant adds a task, shows its tool call, and the chat survives a reload", async ({ page }) => {
  await login(page);
  await page.getByRole("link", { name: "Assistant" }).click();
  await expect(page).toHaveURL(/\/chat/);

  await page.getByLabel("Message").fill('add a task called "Buy milk"');
  await page.getByRole("button", { name: "Send" }).click();

  const reply = page.getByTestId("message-assistant").last();
  await expect(reply).toContainText("Buy milk");
  const toolCall = reply.getByTestId("tool-call");
  await expect(toolCall).toContainText("add_task");
  await expect(toolCall).toContainText('"title": "Buy milk"');
  await expect(page).toHaveURL(/conversation=\d+/);

  await page.getByRole("link", { name: "Tasks" }).click();
  await expect(page.getByTestId("task-item").filter({ hasText: "Buy milk" })).toBeVisible();

  await page.goto("/chat");
  await expect(page.getByTestId("message-user")).toContainText('add a task called "Buy milk"');
  await expect(page.getByTestId("message-assistant").last().getByTestId("tool-call")).toContainText("add_task");
  await page.reload();
  await expect(page.getByTestId("message-assistant").last()).toContainText("Buy milk");
});

test("logout drops the session and revokes its token", async ({ page, context, request }) => {
  await login(page);
  const token = (await context.cookies()).find((c) => c.name === "todo_session")?.value;
  expect(token).toBeTruthy();
  const withOldCookie = { headers: { cookie: `todo_session=${token}` } };
  expect((await request.get("/api/tasks", withOldCookie)).status()).toBe(200);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect((await context.cookies()).find((c) => c.name === "todo_session")).toBeUndefined();
  // A copy of the cookie taken before logout is worthless afterwards.
  expect((await request.get("/api/tasks", withOldCookie)).status()).toBe(401);
});
