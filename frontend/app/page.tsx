import TaskBoard from "@/components/TaskBoard";
import { requireSession, type SearchParams } from "@/lib/server/session";

export default async function HomePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requireSession("/", await searchParams);
  return <TaskBoard />;
}
