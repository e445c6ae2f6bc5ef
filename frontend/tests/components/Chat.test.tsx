// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Chat, { ASSISTANT_OFF_MESSAGE, TURN_UNCERTAIN_MESSAGE } from "@/components/Chat";
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

  async function sendMessage(text: string) {
    const input = screen.getByLabelText("Message");
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Send" })).toBeTruthy());
    fireEvent.change(input, { target: { value: text } });
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Send" })).toHaveProperty("disabled", false));
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
  }

  it("on a 504 says the action may have completed and to check the tasks before resending", async () => {
    const turns = vi.fn(() => Response.json({ detail: "The backend did not answer in time." }, { status: 504 }));
    vi.stubGlobal("fetch", backend({ "/api/chat/status": () => Response.json({ enabled: true }), "/api/chat": turns }));
    render(<Chat />);
    await sendMessage('add a task called "Buy milk"');
    expect((await screen.findByRole("alert")).textContent).toBe(TURN_UNCERTAIN_MESSAGE);
    expect(TURN_UNCERTAIN_MESSAGE).toMatch(/may have completed.*check the task list before sending/i);
    expect(turns).toHaveBeenCalledTimes(1);
  });

  it("says the same when the connection fails before an answer arrives", async () => {
    const routes = backend({ "/api/chat/status": () => Response.json({ enabled: true }) });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        if (url === "/api/chat") throw new TypeError("Failed to fetch");
        return routes(url);
      }),
    );
    render(<Chat />);
    await sendMessage("delete the milk task");
    expect((await screen.findByRole("alert")).textContent).toBe(TURN_UNCERTAIN_MESSAGE);
  });
});
