// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import TaskForm from "@/components/TaskForm";
import type { Task } from "@/lib/types";

afterEach(cleanup);

const task: Task = {
  id: 3,
  title: "Water plants",
  description: "Balcony",
  completed: false,
  priority: "low",
  tags: ["home", "weekly"],
  due_date: "2030-05-01",
  created_at: "2030-01-01T00:00:00Z",
  updated_at: "2030-01-01T00:00:00Z",
};

describe("TaskForm", () => {
  it("submits trimmed values with tags split into a list, then clears the form", async () => {
    const onSubmit = vi.fn(async () => true);
    render(<TaskForm submitLabel="Add task" onSubmit={onSubmit} />);
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "  Buy milk " } });
    fireEvent.change(screen.getByLabelText("Tags"), { target: { value: "shopping, home" } });
    fireEvent.change(screen.getByLabelText("Priority"), { target: { value: "high" } });
    fireEvent.click(screen.getByRole("button", { name: "Add task" }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledOnce());
    expect(onSubmit).toHaveBeenCalledWith({
      title: "Buy milk",
      description: null,
      priority: "high",
      tags: ["shopping", "home"],
      due_date: null,
    });
    await waitFor(() => expect(screen.getByLabelText("Title")).toHaveProperty("value", ""));
  });

  it("keeps what the user typed when saving fails", async () => {
    render(<TaskForm submitLabel="Add task" onSubmit={async () => false} />);
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Keep me" } });
    fireEvent.click(screen.getByRole("button", { name: "Add task" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Add task" })).toHaveProperty("disabled", false));
    expect(screen.getByLabelText("Title")).toHaveProperty("value", "Keep me");
  });

  it("starts from the task being edited", () => {
    render(<TaskForm initial={task} submitLabel="Save" onSubmit={async () => true} onCancel={() => undefined} />);
    expect(screen.getByLabelText("Title")).toHaveProperty("value", "Water plants");
    expect(screen.getByLabelText("Tags")).toHaveProperty("value", "home, weekly");
    expect(screen.getByLabelText("Due date")).toHaveProperty("value", "2030-05-01");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeTruthy();
  });

  it("cannot be submitted without a title", () => {
    render(<TaskForm submitLabel="Add task" onSubmit={async () => true} />);
    expect(screen.getByRole("button", { name: "Add task" })).toHaveProperty("disabled", true);
  });
});
