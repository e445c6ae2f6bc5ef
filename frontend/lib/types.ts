export type Priority = "low" | "medium" | "high";
export type StatusFilter = "all" | "active" | "completed";
export type SortField = "created" | "due" | "priority" | "title";
export type SortOrder = "asc" | "desc";

export interface Task {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  priority: Priority;
  tags: string[];
  due_date: string | null;
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  items: Task[];
  total: number;
  limit: number;
  offset: number;
}

export interface TaskInput {
  title: string;
  description?: string | null;
  priority?: Priority;
  tags?: string[];
  due_date?: string | null;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  result: unknown;
}

export interface ChatMessage {
  id?: number;
  role: string;
  content: string;
  tool_calls: ToolCall[];
  created_at?: string;
}

export interface ChatReply {
  conversation_id: number;
  response: string;
  tool_calls: ToolCall[];
}

export interface ConversationDetail {
  id: number;
  title: string;
  messages: ChatMessage[];
}
