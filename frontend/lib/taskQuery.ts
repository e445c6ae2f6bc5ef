import type { Priority, SortField, SortOrder, StatusFilter } from "./types";

export interface TaskFilters {
  q: string;
  status: StatusFilter;
  priority: Priority | "";
  tag: string;
  sort: SortField;
  order: SortOrder;
  limit: number;
  offset: number;
}

export const DEFAULT_FILTERS: TaskFilters = {
  q: "",
  status: "all",
  priority: "",
  tag: "",
  sort: "created",
  order: "desc",
  limit: 50,
  offset: 0,
};

/**
 * The query string for GET /api/tasks. Empty filters are left out rather than sent blank,
 * so the backend applies its own defaults and the URL stays readable.
 */
export function buildTaskQuery(filters: Partial<TaskFilters>): string {
  const f = { ...DEFAULT_FILTERS, ...filters };
  const params = new URLSearchParams();
  const q = f.q.trim();
  const tag = f.tag.trim();
  if (q) params.set("q", q);
  if (f.status !== "all") params.set("status", f.status);
  if (f.priority) params.set("priority", f.priority);
  if (tag) params.set("tag", tag);
  params.set("sort", f.sort);
  params.set("order", f.order);
  params.set("limit", String(Math.max(1, Math.floor(f.limit))));
  if (f.offset > 0) params.set("offset", String(Math.floor(f.offset)));
  return params.toString();
}

/** "a, b ,, c" → ["a", "b", "c"], keeping the first of any duplicates. */
export function parseTags(input: string): string[] {
  const tags: string[] = [];
  for (const raw of input.split(",")) {
    const tag = raw.trim();
    if (tag && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}
