/** The API client: openapi-fetch over the types generated from the gateway's
 * OpenAPI document (src/api/schema.d.ts; `npm run gen:api`). No request shape is
 * written by hand: a route or field that changes breaks the type-check.
 *
 * The bearer token is added here; `stores/session.ts` keeps it fresh. */
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "@c2p/api-schema";
import type { Problem } from "./types";

let accessToken: () => string | null = () => null;

/** Who supplies the bearer token (the session store). */
export function useToken(supplier: () => string | null) {
  accessToken = supplier;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = accessToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

/** A client with the bearer token, sending through `fetch` (by default the global
 * one, looked up at each call, not captured once, so tests can stand in for the
 * network). The desk builds its own over a fetch that revalidates (desk/api.ts). */
export function createApi(fetch: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request)) {
  const client = createClient<paths>({
    baseUrl: typeof location !== "undefined" ? location.origin : "http://localhost",
    fetch,
  });
  client.use(auth);
  return client;
}

export const api = createApi();

/** A problem+json body, or one made up from the status when there is none. */
export function asProblem(error: unknown, status: number): Problem {
  if (error && typeof error === "object" && "status" in error && "title" in error) {
    return error as Problem;
  }
  return { type: "about:blank", title: `HTTP ${status}`, status, detail: String(error ?? "") };
}

/** True when the failure is the network's (offline, DNS, reset), not the server's answer. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof DOMException && error.name === "AbortError");
}
