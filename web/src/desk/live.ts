/** Live updates for the desk views, over the app's one SSE stream.
 *
 * The app keeps a single EventSource on /api/v1/live (stores/sync.ts) and
 * re-dispatches each event on `liveBus`; a desk view subscribes to the types it
 * shows and reloads its data, debounced, so a burst of events (a plan of twelve
 * actions) costs one request. No reload of the page, ever. */
import { useEffect, useRef } from "preact/hooks";
import { LIVE_OPENED, liveBus } from "../stores/sync";

export function onLive(types: string[], handler: (type: string, data: unknown) => void): () => void {
  const listener = (event: Event) => {
    const raw = (event as MessageEvent).data;
    let data: unknown = raw;
    try { data = typeof raw === "string" ? JSON.parse(raw) : raw; } catch { /* keep the text */ }
    handler(event.type, data);
  };
  for (const type of types) liveBus.addEventListener(type, listener);
  return () => { for (const type of types) liveBus.removeEventListener(type, listener); };
}

/** Call `reload` (at most every `waitMs`) whenever one of `types` arrives, and each
 * time the stream (re)opens: what happened while it was not open came on no stream. */
export function useLiveReload(types: string[], reload: () => void, waitMs = 300) {
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = onLive([...types, LIVE_OPENED], () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => latest.current(), waitMs);
    });
    return () => { stop(); if (timer) clearTimeout(timer); };
  }, [types.join(","), waitMs]);
}
