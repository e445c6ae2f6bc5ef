"use client";

import { useState } from "react";
import TaskForm from "./TaskForm";
import type { Task, TaskInput } from "@/lib/types";

interface Props {
  task: Task;
  onToggle: (task: Task) => Promise<boolean>;
  onUpdate: (task: Task, input: TaskInput) => Promise<boolean>;
  onDelete: (task: Task) => Promise<boolean>;
}

export default function TaskItem({ task, onToggle, onUpdate, onDelete }: Props) {
  const [editing, setEditing] = useState(false);

  if (editing) {
    return (
      <li className="task">
        <div className="grow">
          <TaskForm
            initial={task}
            submitLabel="Save"
            onSubmit={async (input) => {
              const saved = await onUpdate(task, input);
              if (saved) setEditing(false);
              return saved;
            }}
            onCancel={() => setEditing(false)}
          />
        </div>
      </li>
    );
  }

  return (
    <li className={task.completed ? "task done" : "task"} data-testid="task-item">
      <input
        type="checkbox"
        checked={task.completed}
        onChange={() => onToggle(task)}
        aria-label={`Mark "${task.title}" as ${task.completed ? "not completed" : "completed"}`}
      />
      <div className="grow">
        <div className="title">{task.title}</div>
        {task.description && <div className="muted small">{task.description}</div>}
        <div>
          <span className={`badge ${task.priority}`}>{task.priority}</span>
          {task.due_date && <span className="badge">due {task.due_date}</span>}
          {task.tags.map((tag) => (
            <span key={tag} className="badge">
              #{tag}
            </span>
          ))}
        </div>
      </div>
      <button type="button" className="link" onClick={() => setEditing(true)} aria-label={`Edit "${task.title}"`}>
        Edit
      </button>
      <button type="button" className="link danger" onClick={() => onDelete(task)} aria-label={`Delete "${task.title}"`}>
        Delete
      </button>
    </li>
  );
}
