"use client";

import { useCallback, useEffect, useState } from "react";
import TaskForm from "./TaskForm";
import TaskItem from "./TaskItem";
import { ApiError, api, redirectIfUnauthorized } from "@/lib/api";
import { DEFAULT_FILTERS, buildTaskQuery, type TaskFilters } from "@/lib/taskQuery";
import type { Task, TaskInput, TaskPage } from "@/lib/types";

export default function TaskBoard() {
  const [filters, setFilters] = useState<TaskFilters>(DEFAULT_FILTERS);
  const [search, setSearch] = useState("");
  const [page, setPage] = useState<TaskPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setPage(await api<TaskPage>(`/api/tasks?${buildTaskQuery(filters)}`));
      setError(null);
    } catch (err) {
      if (!redirectIfUnauthorized(err)) setError(message(err));
    }
  }, [filters]);

  useEffect(() => {
    void load();
  }, [load]);

  // Search as you type, without a request per keystroke.
  useEffect(() => {
    const timer = setTimeout(() => {
      setFilters((f) => (f.q === search ? f : { ...f, q: search, offset: 0 }));
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  function update<K extends keyof TaskFilters>(key: K, value: TaskFilters[K]) {
    setFilters((f) => ({ ...f, [key]: value, offset: 0 }));
  }

  async function run(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      await load();
      return true;
    } catch (err) {
      if (!redirectIfUnauthorized(err)) setError(message(err));
      return false;
    }
  }

  const create = (input: TaskInput) => run(() => api<Task>("/api/tasks", { method: "POST", body: input }));
  const setCompleted = (id: number, completed: boolean) =>
    setPage((p) => p && { ...p, items: p.items.map((t) => (t.id === id ? { ...t, completed } : t)) });
  const toggle = async (task: Task) => {
    // Flip the checkbox at once rather than after the round trip; undo it if the backend refuses.
    setCompleted(task.id, !task.completed);
    const saved = await run(() => api<Task>(`/api/tasks/${task.id}/toggle`, { method: "POST" }));
    if (!saved) setCompleted(task.id, task.completed);
    return saved;
  };
  const updateTask = (task: Task, input: TaskInput) =>
    run(() => api<Task>(`/api/tasks/${task.id}`, { method: "PATCH", body: input }));
  const remove = (task: Task) => {
    if (!window.confirm(`Delete "${task.title}"?`)) return Promise.resolve(false);
    return run(() => api<void>(`/api/tasks/${task.id}`, { method: "DELETE" }));
  };

  const total = page?.total ?? 0;
  const from = total === 0 ? 0 : filters.offset + 1;
  const to = Math.min(filters.offset + filters.limit, total);

  return (
    <>
      <section className="card">
        <h1>Tasks</h1>
        <TaskForm submitLabel="Add task" onSubmit={create} />
      </section>

      <section className="card stack">
        <div className="row" role="search">
          <input
            className="grow"
            type="search"
            aria-label="Search tasks"
            placeholder="Search title and description"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <select aria-label="Status" value={filters.status} onChange={(e) => update("status", e.target.value as TaskFilters["status"])}>
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="completed">Completed</option>
          </select>
          <select aria-label="Priority filter" value={filters.priority} onChange={(e) => update("priority", e.target.value as TaskFilters["priority"])}>
            <option value="">Any priority</option>
            <option value="high">High</option>
            <option value="medium">Medium</option>
            <option value="low">Low</option>
          </select>
          <input aria-label="Tag filter" placeholder="Tag" value={filters.tag} onChange={(e) => update("tag", e.target.value)} size={10} />
          <select aria-label="Sort by" value={filters.sort} onChange={(e) => update("sort", e.target.value as TaskFilters["sort"])}>
            <option value="created">Created</option>
            <option value="due">Due date</option>
            <option value="priority">Priority</option>
            <option value="title">Title</option>
          </select>
          <button
            type="button"
            aria-label={filters.order === "asc" ? "Ascending order" : "Descending order"}
            onClick={() => update("order", filters.order === "asc" ? "desc" : "asc")}
          >
            {filters.order === "asc" ? "↑ Asc" : "↓ Desc"}
          </button>
        </div>

        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}

        {page === null ? (
          <p className="muted">Loading…</p>
        ) : page.items.length === 0 ? (
          <p className="muted">No tasks match.</p>
        ) : (
          <ul className="tasks" aria-label="Task list">
            {page.items.map((task) => (
              <TaskItem key={task.id} task={task} onToggle={toggle} onUpdate={updateTask} onDelete={remove} />
            ))}
          </ul>
        )}

        <div className="row small muted">
          <span className="grow">
            {from}–{to} of {total}
          </span>
          <button type="button" disabled={filters.offset === 0} onClick={() => setFilters((f) => ({ ...f, offset: Math.max(0, f.offset - f.limit) }))}>
            Previous
          </button>
          <button type="button" disabled={to >= total} onClick={() => setFilters((f) => ({ ...f, offset: f.offset + f.limit }))}>
            Next
          </button>
        </div>
      </section>
    </>
  );
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : "Something went wrong. Please try again.";
}
