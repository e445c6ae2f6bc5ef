const BASE = "http://same-origin.invalid";

/**
 * Where to go after login: only a path on this site, so `?next=` cannot send users elsewhere.
 * Browsers drop tabs and newlines from a URL and read `\` as `/`, so `/\t/evil` or `/\evil` would
 * become the protocol-relative `//evil`: any control character or backslash is refused outright,
 * and what is left must still resolve to this origin.
 */
export function safeNextPath(next: string | string[] | undefined | null): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/") || value.startsWith("//")) return "/";
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  const url = new URL(value, BASE);
  if (url.origin !== BASE) return "/";
  if (url.pathname.startsWith("/login") || url.pathname.startsWith("/register")) return "/";
  return value;
}
