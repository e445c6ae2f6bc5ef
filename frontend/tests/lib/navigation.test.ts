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

  it("does not loop back to the auth pages", () => {
    expect(safeNextPath("/login")).toBe("/");
    expect(safeNextPath(["/register", "/chat"])).toBe("/");
  });
});
