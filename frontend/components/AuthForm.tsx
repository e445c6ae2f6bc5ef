"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { ApiError, api } from "@/lib/api";
import { safeNextPath } from "@/lib/navigation";

interface Props {
  mode: "login" | "register";
  next: string;
  registered?: boolean;
  initialEmail?: string;
}

export default function AuthForm({ mode, next, registered = false, initialEmail = "" }: Props) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isLogin = mode === "login";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (isLogin) {
        await api("/api/auth/login", { method: "POST", body: { email, password } });
        // Full navigation: the layout reads the new cookie on the server.
        window.location.assign(safeNextPath(next));
      } else {
        await api("/api/auth/register", { method: "POST", body: { email, password } });
        window.location.assign(`/login?registered=1&email=${encodeURIComponent(email)}`);
      }
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Something went wrong. Please try again.");
      setBusy(false);
    }
  }

  return (
    <section className="card auth">
      <h1>{isLogin ? "Log in" : "Create an account"}</h1>
      {registered && <p className="success">Account created. You can log in now.</p>}
      <form className="stack" onSubmit={onSubmit}>
        <label className="field">
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          Password
          <input
            type="password"
            name="password"
            autoComplete={isLogin ? "current-password" : "new-password"}
            required
            minLength={isLogin ? 1 : 8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {!isLogin && <span className="muted small">At least 8 characters.</span>}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {isLogin ? "Log in" : "Register"}
        </button>
      </form>
      <p className="muted small">
        {isLogin ? (
          <>
            No account yet? <Link href="/register">Register</Link>
          </>
        ) : (
          <>
            Already registered? <Link href="/login">Log in</Link>
          </>
        )}
      </p>
    </section>
  );
}
