import { ref } from "vue";

/** The signed-in user (operator or passenger), kept per browser tab (sessionStorage), never in localStorage. */
export interface Session {
  token: string;
  role: string;
  username: string;
  expiresAt: number;
}

const KEY = "headway.session";

function load(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    if (typeof s.token !== "string" || s.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export const session = ref<Session | null>(load());

/** Why the last session ended, shown on the login form. */
export const signOutReason = ref<string | null>(null);

export function signIn(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  signOutReason.value = null;
  session.value = s;
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signOutReason.value = reason;
  session.value = null;
}

/** Operators and admins may also ride; only they may watch the fleet. */
export function canOperate(s: Session): boolean {
  return s.role === "operator" || s.role === "admin";
}
