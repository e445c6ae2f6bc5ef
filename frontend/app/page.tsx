import TaskBoard from "@/components/TaskBoard";

export default function HomePage() {
  return <TaskBoard />;
}
