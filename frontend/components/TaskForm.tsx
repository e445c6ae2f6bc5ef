"use client";

import { useState, type FormEvent } from "react";
import { parseTags } from "@/lib/taskQuery";
import type { Priority, Task, TaskInput } from "@/lib/types";

interface Props {
  initial?: Task;
  submitLabel: string;
  /** Resolves true when saved; on false the form keeps what the user typed. */
  onSubmit: (input: TaskInput) => Promise<boolean>;
  onCancel?: () => void;
}

export default function TaskForm({ initial, submitLabel, onSubmit, onCancel }: Props) {
  const [title, setTitle] = useState(initial?.title ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [priority, setPriority] = useState<Priority>(initial?.priority ?? "medium");
  const [tags, setTags] = useState(initial?.tags.join(", ") ?? "");
  const [dueDate, setDueDate] = useState(initial?.due_date ?? "");
  const [busy, setBusy] = useState(false);
  const prefix = initial ? `edit-${initial.id}` : "new";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    try {
      const saved = await onSubmit({
        title: title.trim(),
        description: description.trim() || null,
        priority,
        tags: parseTags(tags),
        due_date: dueDate || null,
      });
      if (saved && !initial) {
        setTitle("");
        setDescription("");
        setTags("");
        setDueDate("");
        setPriority("medium");
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={submit} aria-label={initial ? `Edit ${initial.title}` : "New task"}>
      <div className="row">
        <input
          className="grow"
          id={`${prefix}-title`}
          aria-label="Title"
          placeholder="What needs doing?"
          required
          maxLength={200}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <select aria-label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
        <input type="date" aria-label="Due date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} />
      </div>
      <div className="row">
        <input
          className="grow"
          aria-label="Tags"
          placeholder="Tags, comma separated"
          value={tags}
          onChange={(e) => setTags(e.target.value)}
        />
      </div>
      <textarea
        aria-label="Description"
        placeholder="Description (optional)"
        rows={2}
        maxLength={5000}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <div className="row">
        <button type="submit" className="primary" disabled={busy || !title.trim()}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
