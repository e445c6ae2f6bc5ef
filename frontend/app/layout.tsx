import type { Metadata } from "next";
import { cookies } from "next/headers";
import Link from "next/link";
import LogoutButton from "@/components/LogoutButton";
import { SESSION_COOKIE } from "@/lib/server/proxy";
import "./globals.css";

export const metadata: Metadata = {
  title: "Todo",
  description: "Tasks with an AI assistant",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const signedIn = (await cookies()).has(SESSION_COOKIE);
  return (
    <html lang="en">
      <body>
        <header className="header">
          <Link href="/" className="brand">
            Todo
          </Link>
          <nav aria-label="Main">
            {signedIn && (
              <>
                <Link href="/">Tasks</Link>
                <Link href="/chat">Assistant</Link>
              </>
            )}
          </nav>
          {signedIn ? <LogoutButton /> : <Link href="/login">Log in</Link>}
        </header>
        <main className="main">{children}</main>
      </body>
    </html>
  );
}
