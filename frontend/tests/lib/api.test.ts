import { describe, expect, it, vi } from "vitest";
import { ApiError, api, errorMessage } from "@/lib/api";

describe("errorMessage", () => {
  it("uses a string detail as is", () => {
    expect(errorMessage({ detail: "Email already registered" }, 409)).toBe("Email already registered");
  });

  it("joins FastAPI validation errors with their field", () => {
    const body = { detail: [{ loc: ["body", "password"], msg: "String should have at least 8 characters" }] };
    expect(errorMessage(body, 422)).toBe("password: String should have at least 8 characters");
  });

  it("falls back to the status code", () => {
    expect(errorMessage(null, 500)).toBe("Request failed (HTTP 500).");
  });
});

describe("api", () => {
  it("sends JSON and returns the parsed body", async () => {
    const fetchMock = vi.fn(async () => Response.json({ id: 1 }, { status: 201 }));
    vi.stubGlobal("fetch", fetchMock);
    await expect(api("/api/tasks", { method: "POST", body: { title: "x" } })).resolves.toEqual({ id: 1 });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/tasks");
    expect(init.body).toBe('{"title":"x"}');
    expect((init.headers as Record<string, string>)["content-type"]).toBe("application/json");
  });

  it("throws ApiError carrying the status and backend message", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Response.json({ detail: "Not authenticated" }, { status: 401 })));
    const error = await api("/api/tasks").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, message: "Not authenticated" });
  });

  it("returns undefined for 204 No Content", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
    await expect(api("/api/tasks/1", { method: "DELETE" })).resolves.toBeUndefined();
  });
});
