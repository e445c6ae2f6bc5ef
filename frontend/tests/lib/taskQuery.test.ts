import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS, buildTaskQuery, parseTags } from "@/lib/taskQuery";

describe("buildTaskQuery", () => {
  it("sends only sort, order and limit for the default filters", () => {
    expect(buildTaskQuery(DEFAULT_FILTERS)).toBe("sort=created&order=desc&limit=50");
  });

  it("includes every set filter, trimmed and encoded", () => {
    const query = new URLSearchParams(
      buildTaskQuery({ q: "  buy milk ", status: "completed", priority: "high", tag: " home&garden ", sort: "due", order: "asc", limit: 10, offset: 20 }),
    );
    expect(Object.fromEntries(query)).toEqual({
      q: "buy milk",
      status: "completed",
      priority: "high",
      tag: "home&garden",
      sort: "due",
      order: "asc",
      limit: "10",
      offset: "20",
    });
  });

  it("leaves out status=all, an empty priority and blank search", () => {
    const query = buildTaskQuery({ q: "   ", status: "all", priority: "", tag: "" });
    expect(query).not.toMatch(/(^|&)(q|status|priority|tag)=/);
  });

  it("never asks for fewer than one item", () => {
    expect(buildTaskQuery({ limit: 0 })).toContain("limit=1");
  });
});

describe("parseTags", () => {
  it("splits on commas, trims, drops blanks and duplicates", () => {
    expect(parseTags(" work, home,, work ,urgent ")).toEqual(["work", "home", "urgent"]);
    expect(parseTags("")).toEqual([]);
  });
});
