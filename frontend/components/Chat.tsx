"use client";

import { useEffect, useRef, useState, type FormEvent } from "react";
import ToolCallView from "./ToolCallView";
import { ApiError, api, redirectIfUnauthorized } from "@/lib/api";
import { CONVERSATION_QUERY_PARAM, CONVERSATION_STORAGE_KEY, resolveConversationId } from "@/lib/conversation";
import type { ChatMessage, ChatReply, ConversationDetail } from "@/lib/types";

export const ASSISTANT_OFF_MESSAGE = "The AI assistant is off: no OpenAI key is configured";

/** A turn that timed out or lost its connection may have run its tool calls all the same. */
export const TURN_UNCERTAIN_MESSAGE =
  "The assistant did not answer in time, but its actions may have completed. " +
  "Check the task list before sending the message again.";

type Availability = "checking" | "enabled" | "disabled";

export default function Chat() {
  const [availability, setAvailability] = useState<Availability>("checking");
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const endRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let cancelled = false;
    async function init() {
      try {
        const status = await api<{ enabled: boolean }>("/api/chat/status");
        if (cancelled) return;
        setAvailability(status.enabled ? "enabled" : "disabled");
      } catch (err) {
        if (redirectIfUnauthorized(err) || cancelled) return;
        setError(message(err));
      }
      const id = resolveConversationId(window.location.search, window.localStorage.getItem(CONVERSATION_STORAGE_KEY));
      if (id === null) return;
      try {
        const detail = await api<ConversationDetail>(`/api/chat/conversations/${id}`);
        if (cancelled) return;
        setConversationId(detail.id);
        setMessages(detail.messages.filter((m) => m.role === "user" || m.role === "assistant"));
        remember(detail.id);
      } catch (err) {
        if (redirectIfUnauthorized(err) || cancelled) return;
        // A stale id (deleted conversation, other user) just starts a fresh chat.
        if (err instanceof ApiError && err.status === 404) forget();
        else setError(message(err));
      }
    }
    void init();
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: "end" });
  }, [messages]);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setBusy(true);
    setError(null);
    setMessages((m) => [...m, { role: "user", content: text, tool_calls: [] }]);
    setDraft("");
    try {
      const reply = await api<ChatReply>("/api/chat", {
        method: "POST",
        body: conversationId === null ? { message: text } : { conversation_id: conversationId, message: text },
      });
      setConversationId(reply.conversation_id);
      remember(reply.conversation_id);
      setMessages((m) => [...m, { role: "assistant", content: reply.response, tool_calls: reply.tool_calls }]);
    } catch (err) {
      if (redirectIfUnauthorized(err)) return;
      if (err instanceof ApiError && err.status === 503) setAvailability("disabled");
      else if (!(err instanceof ApiError) || err.status === 504) setError(TURN_UNCERTAIN_MESSAGE);
      else setError(message(err));
      setDraft(text);
      setMessages((m) => m.slice(0, -1));
    } finally {
      setBusy(false);
    }
  }

  function newConversation() {
    forget();
    setConversationId(null);
    setMessages([]);
    setError(null);
  }

  return (
    <section className="card stack">
      <div className="row">
        <h1 className="grow">Assistant</h1>
        <button type="button" onClick={newConversation} disabled={busy || messages.length === 0}>
          New conversation
        </button>
      </div>

      {availability === "disabled" && (
        <p className="notice" role="status">
          {ASSISTANT_OFF_MESSAGE}
        </p>
      )}

      <div className="chat-log" aria-label="Conversation" aria-live="polite">
        {messages.length === 0 && availability !== "disabled" && (
          <p className="muted">Ask the assistant to add, find, complete or delete tasks, e.g. “add a task called &quot;Buy milk&quot;”.</p>
        )}
        {messages.map((m, i) => (
          <div key={m.id ?? `local-${i}`} className={`bubble ${m.role}`} data-testid={`message-${m.role}`}>
            {m.content}
            {m.tool_calls.map((call, j) => (
              <ToolCallView key={j} call={call} />
            ))}
          </div>
        ))}
        {busy && <p className="muted small">The assistant is thinking…</p>}
        <div ref={endRef} />
      </div>

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <form className="row" onSubmit={send}>
        <input
          className="grow"
          aria-label="Message"
          placeholder={availability === "disabled" ? "Assistant unavailable" : "Message the assistant"}
          maxLength={4000}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          disabled={availability === "disabled"}
        />
        <button type="submit" className="primary" disabled={busy || availability !== "enabled" || !draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}

function remember(id: number) {
  window.localStorage.setItem(CONVERSATION_STORAGE_KEY, String(id));
  const url = new URL(window.location.href);
  if (url.searchParams.get(CONVERSATION_QUERY_PARAM) !== String(id)) {
    url.searchParams.set(CONVERSATION_QUERY_PARAM, String(id));
    window.history.replaceState(null, "", url);
  }
}

function forget() {
  window.localStorage.removeItem(CONVERSATION_STORAGE_KEY);
  const url = new URL(window.location.href);
  url.searchParams.delete(CONVERSATION_QUERY_PARAM);
  window.history.replaceState(null, "", url);
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : "Something went wrong. Please try again.";
}
