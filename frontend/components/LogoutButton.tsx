"use client";

import { useState } from "react";
import { CONVERSATION_STORAGE_KEY } from "@/lib/conversation";

export default function LogoutButton() {
  const [busy, setBusy] = useState(false);

  async function logout() {
    setBusy(true);
    await fetch("/api/auth/logout", { method: "POST" }).catch(() => undefined);
    window.localStorage.removeItem(CONVERSATION_STORAGE_KEY);
    // A full navigation so the server re-renders the header without the session.
    window.location.assign("/login");
  }

  return (
    <button type="button" onClick={logout} disabled={busy}>
      Log out
    </button>
  );
}
