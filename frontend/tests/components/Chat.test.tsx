// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Chat, { ASSISTANT_OFF_MESSAGE } from "@/components/Chat";
import { CONVERSATION_STORAGE_KEY } from "@/lib/conversation";

function backend(routes: Record<string, () => Response>) {
  return vi.fn(async (url: string) => {
    const route = routes[url];
    return route ? route() : Response.json({ detail: "Not Found" }, { status: 404 });
  });
}

beforeEach(() => {
  window.localStorage.clear();
  window.history.replaceState(null, "", "/chat");
});

afterEach(cleanup);

describe("Chat", () => {
  it("says clearly that the assistant is off when the backend has no OpenAI key", async () => {
    vi.stubGlobal("fetch", backend({ "/api/chat/status": () => Response.json({ enabled: false }) }));
    render(<Chat />);
    expect(await screen.findByText(ASSISTANT_OFF_MESSAGE)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Send" })).toHaveProperty("disabled", true);
  });

  it("reloads the stored conversation with its tool calls", async () => {
    window.localStorage.setItem(CONVERSATION_STORAGE_KEY, "5");
    vi.stubGlobal(
      "fetch",
      backend({
        "/api/chat/status": () => Response.json({ enabled: true }),
        "/api/chat/conversations/5": () =>
          Response.json({
            id: 5,
            title: "Groceries",
            messages: [
              { id: 1, role: "user", content: 'add a task called "Buy milk"', tool_calls: [] },
              {
                id: 2,
                role: "assistant",
                content: "Added Buy milk.",
                tool_calls: [{ name: "add_task", arguments: { title: "Buy milk" }, result: { id: 1 } }],
              },
            ],
          }),
      }),
    );
    render(<Chat />);
    expect(await screen.findByText("Added Buy milk.")).toBeTruthy();
    expect(screen.getByTestId("tool-call").textContent).toContain("add_task");
    expect(window.location.search).toBe("?conversation=5");
  });

  it("starts afresh when the stored conversation no longer exists", async () => {
    window.localStorage.setItem(CONVERSATION_STORAGE_KEY, "99");
    vi.stubGlobal("fetch", backend({ "/api/chat/status": () => Response.json({ enabled: true }) }));
    render(<Chat />);
    await vi.waitFor(() => expect(window.localStorage.getItem(CONVERSATION_STORAGE_KEY)).toBeNull());
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
