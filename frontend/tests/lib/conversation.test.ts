import { describe, expect, it } from "vitest";
import { resolveConversationId } from "@/lib/conversation";

describe("resolveConversationId", () => {
  it("prefers the id in the URL over the stored one", () => {
    expect(resolveConversationId("?conversation=12", "3")).toBe(12);
  });

  it("falls back to localStorage", () => {
    expect(resolveConversationId("", "3")).toBe(3);
  });

  it("ignores ids that are not positive integers", () => {
    expect(resolveConversationId("?conversation=abc", null)).toBeNull();
    expect(resolveConversationId("?conversation=-1", "0")).toBeNull();
    expect(resolveConversationId("", "1e3")).toBeNull();
  });
});
