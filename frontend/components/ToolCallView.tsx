import type { ToolCall } from "@/lib/types";

function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** One tool call the assistant made, with what it was asked and what came back. */
export default function ToolCallView({ call }: { call: ToolCall }) {
  return (
    <div className="tool-call" data-testid="tool-call">
      <div>
        Tool call: <strong>{call.name}</strong>
      </div>
      <div className="muted">Arguments</div>
      <pre>{pretty(call.arguments)}</pre>
      <div className="muted">Result</div>
      <pre>{pretty(call.result)}</pre>
    </div>
  );
}
