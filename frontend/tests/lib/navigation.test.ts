import { describe, expect, it } from "vitest";
import { safeNextPath } from "@/lib/navigation";

describe("safeNextPath", () => {
  it("keeps same-site paths", () => {
    expect(safeNextPath("/chat?conversation=3")).toBe("/chat?conversation=3");
  });

  it("refuses other sites and protocol-relative URLs", () => {
    for (const bad of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", undefined]) {
      expect(safeNextPath(bad)).toBe("/");
    }
  });

  it("refuses the open-redirect class: tabs, newlines, backslashes, schemes and absolute URLs", () => {
    const bad = [
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r\n/evil.example",
      "\t//evil.example",
      "/\u0000/evil.example",
      "///evil.example",
      "/\\/evil.example",
      "\\\\evil.example",
      "/chat\\..\\..\\/evil.example",
      "https:evil.example",
      "http://127.0.0.1:30000/chat",
      "  /chat",
    ];
    for (const value of bad) expect(safeNextPath(value), JSON.stringify(value)).toBe("/");
  });

  it("keeps percent-encoded characters as they are, since the browser does not decode them in a path", () => {
    expect(safeNextPath("/%09/evil.example")).toBe("/%09/evil.example");
    expect(safeNextPath("/chat?conversation=3#end")).toBe("/chat?conversation=3#end");
  });

  it("does not loop back to the auth pages", () => {
    expect(safeNextPath("/login")).toBe("/");
    expect(safeNextPath(["/register", "/chat"])).toBe("/");
  });
});
