/** Who is signed in on this phone, and their tokens.
 *
 * Sign-in needs the network once; then the session lives in IndexedDB so the app
 * opens offline for days. The access token (15 min) is renewed quietly with the
 * refresh token whenever the app is online and the token is about to expire; if
 * the refresh token is refused (expired, revoked), the user signs in again and
 * nothing on the phone is lost (unless another person signs in). Signing out
 * revokes the session and wipes every local record. */
import { signal, computed } from "@preact/signals";
import { api, useToken } from "../api/client";
import { getKv, setKv, wipe } from "./db";
import type { Account, Role } from "../api/types";

export interface Session {
  access_token: string;
  refresh_token: string;
  access_expires_at: number;   // ms epoch
  refresh_expires_at: number;
  account: Account;
}

export const session = signal<Session | null>(null);
/** The refresh token was refused: the app still works on its data, but must sign in to sync. */
export const needsSignIn = signal(false);
export const loaded = signal(false);
export const role = computed<Role | null>(() => session.value?.account.role ?? null);

useToken(() => session.value?.access_token ?? null);

const KEY = "session";
const RENEW_BEFORE_MS = 60_000;

export async function loadSession(): Promise<void> {
  session.value = (await getKv<Session>(KEY)) ?? null;
  loaded.value = true;
}

async function save(next: Session | null) {
  session.value = next;
  await setKv(KEY, next);
}

type Tokens = { access_token: string; refresh_token: string; expires_in: number; refresh_expires_in: number };

function fromTokens(tokens: Tokens, account: Account): Session {
  const now = Date.now();
  return {
    access_token: tokens.access_token, refresh_token: tokens.refresh_token,
    access_expires_at: now + tokens.expires_in * 1000,
    refresh_expires_at: now + tokens.refresh_expires_in * 1000, account,
  };
}

export class SignInError extends Error {
  constructor(readonly reason: "credentials" | "throttled" | "network" | "server", detail = "") {
    super(detail || reason);
  }
}

/** Sign in (online). Another person's data left on the phone is wiped first. */
export async function signIn(username: string, password: string): Promise<Session> {
  let result;
  try {
    result = await api.POST("/api/v1/auth/token", { body: { username, password } });
  } catch (error) {
    throw new SignInError("network", String(error));
  }
  if (!result.data) {
    const status = result.response.status;
    throw new SignInError(status === 401 ? "credentials" : status === 429 ? "throttled" : "server");
  }
  const tokens = result.data;
  const me = await api.GET("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  if (!me.data) throw new SignInError("server", `GET /me: ${me.response.status}`);
  const previous = await getKv<Session>(KEY);
  if (previous && previous.account.id !== me.data.id) {
    await wipe(); // never show one person's records to another
  }
  const next = fromTokens(tokens, me.data);
  await save(next);
  needsSignIn.value = false;
  return next;
}

let renewing: Promise<boolean> | null = null;

/** Make sure the access token is valid for a while (online only). False: sign in again. */
export function ensureFresh(force = false): Promise<boolean> {
  const current = session.value;
  if (!current) return Promise.resolve(false);
  if (!force && current.access_expires_at - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(true);
  if (!renewing) {
    renewing = renew(current).finally(() => { renewing = null; });
  }
  return renewing;
}

async function renew(current: Session): Promise<boolean> {
  let result;
  try {
    result = await api.POST("/api/v1/auth/refresh", { body: { refresh_token: current.refresh_token } });
  } catch {
    return false; // no network: try again later, the session is still ours
  }
  if (result.data) {
    const account = (await api.GET("/api/v1/me", {
      headers: { Authorization: `Bearer ${result.data.access_token}` },
    })).data ?? current.account;
    await save(fromTokens(result.data, account));
    needsSignIn.value = false;
    return true;
  }
  if (result.response.status === 401) needsSignIn.value = true;
  return false;
}

/** Sign out: revoke the session if the network allows, and wipe the phone's copy. */
export async function signOut(): Promise<void> {
  const current = session.value;
  if (current && navigator.onLine) {
    try {
      await api.POST("/api/v1/auth/sign-out", { body: { refresh_token: current.refresh_token } });
    } catch { /* offline after all: the tokens expire on their own */ }
  }
  session.value = null;
  await wipe();
  if ("caches" in globalThis) {
    // API answers cached by the service worker belong to this user too.
    await caches.delete("c2p-api");
  }
}
