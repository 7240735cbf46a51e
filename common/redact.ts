/** Secrets out of what is logged or shown: `http://user:secret@host/` → `http://user:***@host/`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}
