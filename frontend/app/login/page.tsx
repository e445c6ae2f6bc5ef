import AuthForm from "@/components/AuthForm";
import { safeNextPath } from "@/lib/navigation";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  return (
    <AuthForm
      mode="login"
      next={safeNextPath(params.next)}
      registered={params.registered === "1"}
      initialEmail={typeof params.email === "string" ? params.email : ""}
    />
  );
}
