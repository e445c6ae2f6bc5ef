// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import ToolCallView from "@/components/ToolCallView";

afterEach(cleanup);

describe("ToolCallView", () => {
  it("shows the tool name, its arguments and its result", () => {
    render(<ToolCallView call={{ name: "add_task", arguments: { title: "Buy milk" }, result: { id: 9, title: "Buy milk" } }} />);
    const view = screen.getByTestId("tool-call");
    expect(view.textContent).toContain("add_task");
    expect(view.textContent).toContain('"title": "Buy milk"');
    expect(view.textContent).toContain('"id": 9');
  });

  it("shows a plain-text result as is", () => {
    render(<ToolCallView call={{ name: "delete_task", arguments: { id: 1 }, result: "deleted" }} />);
    expect(screen.getByTestId("tool-call").textContent).toContain("deleted");
  });
});
