import Chat from "@/components/Chat";
import { requireSession, type SearchParams } from "@/lib/server/session";

export default async function ChatPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requireSession("/chat", await searchParams);
  return <Chat />;
}
