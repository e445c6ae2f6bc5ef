import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BODY_BYTES,
  RequestRefusedError,
  allowedOrigins,
  checkSameOrigin,
  maxBodyBytes,
  positiveIntegerSetting,
} from "@/lib/server/guard";
import { DEFAULT_CHAT_TIMEOUT_MS, chatTimeoutMs, isChatTurn } from "@/lib/server/proxy";

describe("settings", () => {
  it("default to 1 MiB of body and 60 s for a chat turn", () => {
    expect(maxBodyBytes({})).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(chatTimeoutMs({})).toBe(60_000);
    expect(DEFAULT_CHAT_TIMEOUT_MS).toBe(60_000);
  });

  it("take positive integers from the environment and ignore anything else", () => {
    expect(maxBodyBytes({ MAX_BODY_BYTES: " 2048 " })).toBe(2048);
    expect(chatTimeoutMs({ PROXY_CHAT_TIMEOUT_MS: "90000" })).toBe(90_000);
    for (const bad of ["", "0", "-5", "1e6", "12kb", "1.5"]) expect(positiveIntegerSetting(bad, 7), bad).toBe(7);
  });
});

describe("allowedOrigins", () => {
  it("normalises a comma-separated list and drops what is not a URL", () => {
    expect([...allowedOrigins({ ALLOWED_ORIGINS: "https://Todo.Example.com/, http://10.0.0.5:30000 ,nonsense" })]).toEqual([
      "https://todo.example.com",
      "http://10.0.0.5:30000",
    ]);
  });
});

describe("checkSameOrigin", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it("leaves reads alone whatever their origin", () => {
    expect(() => checkSameOrigin("GET", headers({ origin: "https://evil.example", host: "a" }), {})).not.toThrow();
  });

  it("compares the Origin's host with the Host header, ignoring a default port", () => {
    expect(() => checkSameOrigin("POST", headers({ origin: "http://todo.test", host: "todo.test:80" }), {})).not.toThrow();
    expect(() => checkSameOrigin("POST", headers({ origin: "http://todo.test:8080", host: "todo.test" }), {})).toThrow(
      RequestRefusedError,
    );
  });

  it("treats same-site but not same-origin as cross-site", () => {
    expect(() => checkSameOrigin("DELETE", headers({ "sec-fetch-site": "same-site" }), {})).toThrow(/Sec-Fetch-Site: same-site/);
    expect(() => checkSameOrigin("DELETE", headers({ "sec-fetch-site": "same-origin" }), {})).not.toThrow();
  });
});

describe("isChatTurn", () => {
  it("is the POST to /api/chat only", () => {
    expect(isChatTurn("post", ["chat"])).toBe(true);
    expect(isChatTurn("GET", ["chat", "status"])).toBe(false);
    expect(isChatTurn("POST", ["chat", "conversations"])).toBe(false);
  });
});
