/** Small hooks shared by the screens. */
import { useEffect, useState } from "preact/hooks";
import { dataVersion } from "./stores/sync";

/** The result of reading the local copy, read again whenever it changes. */
export function useLocal<T>(load: () => Promise<T>, deps: unknown[] = []): T | undefined {
  const version = dataVersion.value;
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    let alive = true;
    load().then((v) => { if (alive) setValue(v); }, () => undefined);
    return () => { alive = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, ...deps]);
  return value;
}
