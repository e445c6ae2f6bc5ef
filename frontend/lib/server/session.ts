import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { SESSION_COOKIE } from "./proxy";

export type SearchParams = Record<string, string | string[] | undefined>;

/** /login, coming back to `pathname` and its query afterwards. */
export function loginPath(pathname: string, searchParams: SearchParams = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(searchParams)) {
    for (const item of [value].flat()) if (item !== undefined) query.append(key, item);
  }
  const search = query.toString();
  return `/login?${new URLSearchParams({ next: search ? `${pathname}?${search}` : pathname })}`;
}

/**
 * Send a visitor without a session to login. A page's redirect() keeps the Location relative;
 * one from middleware is made absolute with the server's listen address (HOSTNAME:PORT, and
 * 127.0.0.1 rewritten to localhost), which is not the address a browser behind a NodePort used.
 */
export async function requireSession(pathname: string, searchParams: SearchParams): Promise<void> {
  if (!(await cookies()).has(SESSION_COOKIE)) redirect(loginPath(pathname, searchParams));
}
