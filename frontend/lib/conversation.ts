export const CONVERSATION_STORAGE_KEY = "todo.conversationId";
export const CONVERSATION_QUERY_PARAM = "conversation";

function parseId(value: string | null | undefined): number | null {
  if (!value || !/^\d+$/.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** The conversation to resume: the URL wins (shareable, survives a reload), then localStorage. */
export function resolveConversationId(search: string, stored: string | null): number | null {
  const fromUrl = parseId(new URLSearchParams(search).get(CONVERSATION_QUERY_PARAM));
  return fromUrl ?? parseId(stored);
}
